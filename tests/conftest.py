"""Shared fixtures: a real PostgreSQL (embedded by default, DATABASE_URL when set), migrated once per run.

Each run gets a fresh database of its own on that server; each database test starts from empty tables.
Roles, as in a deployment: the migrations run as the owner (the server's superuser, or with
ISP_BILLING_TEST_SHAPE=supabase the non-superuser owner of a Supabase-shaped database); the code under
test connects as the runtime login role `isp_billing_runtime`, which owns nothing (DATABASE_URL of the
process and the `database_url`/`clean_db` fixtures); the `conn` fixture is a superuser connection that only
arranges and asserts.
With ADMIN_DATABASE_URL set (the pooled pass, `make test-pooled`), the code under test reaches the server
through DATABASE_URL (PgBouncer in transaction mode) while database creation, migrations, arranging and
clean-up go straight to ADMIN_DATABASE_URL: they are not the code under test, and clean-up uses settings a
pooler must not see.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from isp_billing import db
from isp_billing.settings import LOCAL_DEV_JWT_SECRET
from isp_billing_cli import supabase_shape
from isp_billing_cli.migrate import migrate
from isp_billing_cli.runtime_role import create_runtime_role, runtime_url
from tests.environment import settings_environment

TEST_CRON_SECRET = "test-cron-secret-0123456789"
# Reference data the migrations seed: kept between tests.
REFERENCE_TABLES = {"schema_migrations", "vat_rates", "unpaid_reason_codes"}
# "supabase": the database is built by infra/supabase_shape (Supabase's roles, auth.users, a
# non-superuser owner).
DATABASE_SHAPE = os.environ.get("ISP_BILLING_TEST_SHAPE", "plain")

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "IspBilling")
os.environ.setdefault("POWERTOOLS_DEV", "false")


def _server_url() -> Iterator[str]:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    # A short path: the server's Unix socket lives in this folder and socket paths are limited to ~100 bytes.
    folder = tempfile.mkdtemp(prefix="ispb-pg-")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset on CI machines
        import pgserver

        server = pgserver.get_server(folder, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    return psycopg.conninfo.make_conninfo(url, dbname=name)


def _admin_server(server_url: str) -> str:
    """Where the fixtures create, migrate, arrange and clean: ADMIN_DATABASE_URL (direct) when set."""
    return os.environ.get("ADMIN_DATABASE_URL") or server_url


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    yield from _server_url()


@pytest.fixture(scope="session")
def test_database(server_url: str) -> Iterator[tuple[str, str]]:
    """A fresh database for this run, migrated by its owner: (superuser URL, owner URL)."""
    name = f"isp_test_{uuid.uuid4().hex[:10]}"
    admin_server = _admin_server(server_url)
    if DATABASE_SHAPE == "supabase":
        owner_url = supabase_shape.create_database(admin_server, name)
    else:
        with psycopg.connect(admin_server, autocommit=True) as admin:
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        owner_url = _with_database(admin_server, name)
    try:
        migrate(owner_url)
        create_runtime_role(owner_url)
        yield _with_database(admin_server, name), owner_url
    finally:
        db.reset_connection()
        with psycopg.connect(admin_server, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def admin_database_url(test_database: tuple[str, str]) -> str:
    """The run's database as the superuser: arranging, asserting, clean-up."""
    return test_database[0]


@pytest.fixture(scope="session")
def owner_database_url(test_database: tuple[str, str]) -> str:
    """The run's database as the owner of its schema (who ran the migrations)."""
    return test_database[1]


@pytest.fixture(scope="session")
def database_url(server_url: str, test_database: tuple[str, str]) -> Iterator[str]:
    """The run's database as the code under test connects: the runtime role. The process's settings use it."""
    name = psycopg.conninfo.conninfo_to_dict(test_database[0])["dbname"]
    url = runtime_url(_with_database(server_url, str(name)))
    environment = {
        "DATABASE_URL": url,
        "JWT_SECRET": LOCAL_DEV_JWT_SECRET,
        "STAGE": "test",
        "CRON_SECRET": TEST_CRON_SECRET,
    }
    db.reset_connection()
    try:
        with settings_environment(environment):
            yield url
    finally:
        db.reset_connection()


def _truncate_all(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        tables = [
            row[0]
            for row in conn.execute(
                "select tablename from pg_tables where schemaname = 'public' order by tablename"
            ).fetchall()
            if row[0] not in REFERENCE_TABLES
        ]
        # replica mode: the append-only audit log's guard triggers do not stop test clean-up.
        # (`set local`: this transaction only, so no connection is ever left in replica mode)
        conn.execute("set local session_replication_role = replica")
        conn.execute(
            sql.SQL("truncate {} restart identity cascade").format(
                sql.SQL(", ").join(sql.Identifier("public", table) for table in tables)
            )
        )


@pytest.fixture
def clean_db(database_url: str, admin_database_url: str) -> Iterator[str]:
    """Empty tables (reference data kept) before the test; yields the code's (runtime role's) URL."""
    db.reset_connection()
    _truncate_all(admin_database_url)
    yield database_url
    db.reset_connection()


@pytest.fixture
def conn(clean_db: str, admin_database_url: str) -> Iterator[psycopg.Connection]:
    """A superuser connection for arranging and asserting (not the code under test's connection)."""
    from psycopg.rows import dict_row

    with psycopg.connect(admin_database_url, autocommit=True, row_factory=dict_row) as connection:
        yield connection
