"""Apply infra/migrations/*.sql in filename order, each once, each in one transaction.

Every applied file is recorded with its SHA-256 in `schema_migrations`; a file edited after it was applied
is refused (write a new migration instead).

Concurrent migrators are serialised without session state, so `migrate` also works through a transaction
pooler (PgBouncer/Supavisor in transaction mode): each file's transaction first takes a transaction-level
advisory lock, then re-reads the ledger for that file inside the lock, so a file another migrator applied
meanwhile is skipped rather than applied twice. (A direct connection or session mode is still the
recommended way to run migrations: long DDL through a pooler holds a pooled server connection.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

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
                conn.execute(migration.sql)  # type: ignore[arg-type]  # a file of trusted DDL
                conn.execute(
                    "insert into public.schema_migrations (version, checksum) values (%s, %s)",
                    (migration.version, migration.checksum),
                )
            applied_now.append(migration.version)
    return applied_now
