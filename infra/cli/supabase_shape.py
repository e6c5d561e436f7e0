"""Build a database shaped like a Supabase project's on a PostgreSQL server we are superuser of.

infra/supabase_shape/roles.sql creates Supabase's roles (cluster-wide, idempotent, safe when runs overlap);
infra/supabase_shape/database.sql lays GoTrue's `auth` schema and Supabase's grants in a new database. The
owner of our migrations there is `supabase_postgres`, the stand-in for Supabase's non-superuser `postgres`.

`python -m isp_billing_cli.supabase_shape check SERVER_URL` builds one, migrates it as that owner, creates the
runtime role as that owner, runs `isp-billing doctor` against it as the functions would connect, and drops it:
the CI pass runs it after the integration suite.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

SHAPE_DIR = Path(__file__).resolve().parents[1] / "supabase_shape"
OWNER = "supabase_postgres"
_RACES = (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject, psycopg.errors.InternalError_)


def _with(url: str, **changes: str | None) -> str:
    params = psycopg.conninfo.conninfo_to_dict(url)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return psycopg.conninfo.make_conninfo(**{key: str(value) for key, value in params.items()})


def ensure_roles(admin_url: str) -> None:
    text = (SHAPE_DIR / "roles.sql").read_text(encoding="utf-8")
    for attempt in range(10):
        try:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(text)  # type: ignore[arg-type]  # a file of trusted DDL
            return
        except _RACES:
            if attempt == 9:
                raise
            time.sleep(0.05 * (attempt + 1))


def create_database(admin_url: str, name: str) -> str:
    """A new Supabase-shaped database `name`; returns the URL of its owner stand-in (no password: trust)."""
    ensure_roles(admin_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("grant all on database {} to {}").format(sql.Identifier(name), sql.Identifier(OWNER))
        )
    with psycopg.connect(_with(admin_url, dbname=name), autocommit=True) as conn:
        conn.execute((SHAPE_DIR / "database.sql").read_text(encoding="utf-8"))  # type: ignore[arg-type]
    return _with(admin_url, dbname=name, user=OWNER, password=None)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def check(admin_url: str) -> int:
    """Build, migrate as the owner, create the runtime role as the owner, run doctor as the runtime role."""
    from isp_billing_cli.doctor import run_doctor
    from isp_billing_cli.migrate import migrate
    from isp_billing_cli.runtime_role import create_runtime_role, runtime_url

    name = f"isp_supabase_{uuid.uuid4().hex[:10]}"
    started = time.perf_counter()
    owner_url = create_database(admin_url, name)
    try:
        migrate(owner_url)
        create_runtime_role(owner_url)
        code = run_doctor(runtime_url(owner_url), as_json=False)
    finally:
        drop_database(admin_url, name)
    print(f"supabase-shaped database built, migrated and checked in {time.perf_counter() - started:.1f}s")
    return code


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "check":
        print("usage: python -m isp_billing_cli.supabase_shape check SERVER_URL", file=sys.stderr)
        sys.exit(2)
    sys.exit(check(sys.argv[2]))
