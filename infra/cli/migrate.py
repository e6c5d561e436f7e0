"""Apply infra/migrations/*.sql in filename order, each once, each in one transaction.

Every applied file is recorded with its SHA-256 in `schema_migrations`; a file edited after it was applied
is refused (write a new migration instead).

Concurrent migrators are serialised without session state, so `migrate` also works through a transaction
pooler (PgBouncer/Supavisor in transaction mode): each file's transaction first takes a transaction-level
advisory lock, then re-reads the ledger for that file inside the lock, so a file another migrator applied
meanwhile is skipped rather than applied twice. (A direct connection or session mode is still the
recommended way to run migrations: long DDL through a pooler holds a pooled server connection.)

The same files may have been applied by `supabase db push`, which keeps its own ledger
(`supabase_migrations.schema_migrations`, version = the file name's timestamp prefix). Those are adopted into
ours (with the file's current checksum: the Supabase ledger keeps no checksum) instead of being applied a
second time; objects that exist with neither ledger knowing them stop the run with what to do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
LOCK_KEY = 7_041_001  # arbitrary, constant: the migrator's advisory lock


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    return [Migration(path.stem, path) for path in sorted(directory.glob("*.sql"))]


def migrate(url: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply what is pending; returns the versions applied now. Idempotent."""
    applied_now: list[str] = []
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            conn.execute(
                """
                create table if not exists public.schema_migrations (
                    version text primary key,
                    checksum text not null,
                    applied_at timestamptz not null default now()
                )
                """
            )
            conn.execute("alter table public.schema_migrations enable row level security")
            _adopt_supabase_ledger(conn, directory)
        for migration in discover(directory):
            with conn.transaction():
                conn.execute("select pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                recorded = conn.execute(
                    "select checksum from public.schema_migrations where version = %s", (migration.version,)
                ).fetchone()
                if recorded is not None:
                    if recorded[0] != migration.checksum:
                        raise MigrationError(
                            f"{migration.path.name} was changed after it was applied; "
                            "add a new migration instead of editing an applied one"
                        )
                    continue
                with _explained(migration):
                    conn.execute(migration.sql)  # type: ignore[arg-type]  # a file of trusted DDL
                conn.execute(
                    "insert into public.schema_migrations (version, checksum) values (%s, %s)",
                    (migration.version, migration.checksum),
                )
            applied_now.append(migration.version)
    return applied_now


def supabase_version(migration: Migration) -> str:
    """The version `supabase db push` records for a file: its name's timestamp prefix."""
    return migration.version.split("_", 1)[0]


def _adopt_supabase_ledger(conn: psycopg.Connection[Any], directory: Path) -> None:
    """Record in our ledger the files `supabase db push` applied that ours does not know yet (inside the
    caller's locked transaction)."""
    if conn.execute("select to_regclass('supabase_migrations.schema_migrations')").fetchone() == (None,):
        return
    pushed = {row[0] for row in conn.execute("select version from supabase_migrations.schema_migrations")}
    for migration in discover(directory):
        if supabase_version(migration) in pushed:
            conn.execute(
                "insert into public.schema_migrations (version, checksum) values (%s, %s)"
                " on conflict (version) do nothing",
                (migration.version, migration.checksum),
            )


@contextmanager
def _explained(migration: Migration) -> Iterator[None]:
    """A file whose objects already exist: the schema was built by something neither ledger records."""
    try:
        yield
    except (psycopg.errors.DuplicateTable, psycopg.errors.DuplicateObject, psycopg.errors.DuplicateFunction):
        raise MigrationError(
            f"{migration.path.name}: its objects already exist, but neither public.schema_migrations nor "
            "supabase_migrations.schema_migrations records it. If `supabase db push` (or a restore) built "
            "this schema, record the files it applied in supabase_migrations.schema_migrations "
            "(`supabase migration repair --status applied <version>`) and run `isp-billing migrate` again; "
            "otherwise migrate an empty database."
        ) from None
