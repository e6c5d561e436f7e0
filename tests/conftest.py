"""Shared fixtures: a real PostgreSQL (embedded by default, DATABASE_URL when set), migrated once per run.

Each run gets a fresh database of its own on that server; each database test starts from empty tables.
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
from isp_billing_cli.migrate import migrate
from tests.environment import settings_environment

TEST_CRON_SECRET = "test-cron-secret-0123456789"
# Reference data the migrations seed: kept between tests.
REFERENCE_TABLES = {"schema_migrations", "vat_rates", "unpaid_reason_codes"}

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
    """Where the fixtures create, migrate, arrange and clean databases: ADMIN_DATABASE_URL when set (the
    pooled pass: the code under test goes through PgBouncer, the fixtures go straight to the server)."""
    return os.environ.get("ADMIN_DATABASE_URL") or server_url


def admin_url_of(url: str) -> str:
    """The direct (fixture) URL of a test database the code under test reaches at `url`."""
    admin = os.environ.get("ADMIN_DATABASE_URL")
    return _with_database(admin, psycopg.conninfo.conninfo_to_dict(url)["dbname"]) if admin else url


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    yield from _server_url()


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh, migrated database for this test run; the process's settings point at it."""
    name = f"isp_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_server(server_url), autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = _with_database(server_url, name)
    migrate(admin_url_of(url))
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
        with psycopg.connect(_admin_server(server_url), autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _truncate_all(url: str) -> None:
    with psycopg.connect(admin_url_of(url), autocommit=True) as conn, conn.transaction():
        tables = [
            row[0]
            for row in conn.execute(
                "select tablename from pg_tables where schemaname = 'public' order by tablename"
            ).fetchall()
            if row[0] not in REFERENCE_TABLES
        ]
        # replica mode: the append-only audit log's guard triggers do not stop test clean-up.
        # (`set local`: for this transaction only, so no connection is left in replica mode)
        conn.execute("set local session_replication_role = replica")
        conn.execute(
            sql.SQL("truncate {} restart identity cascade").format(
                sql.SQL(", ").join(sql.Identifier("public", table) for table in tables)
            )
        )


@pytest.fixture
def clean_db(database_url: str) -> Iterator[str]:
    """Empty tables (reference data kept) before the test: every database test starts from the same place."""
    db.reset_connection()
    _truncate_all(database_url)
    yield database_url
    db.reset_connection()


@pytest.fixture
def conn(clean_db: str) -> Iterator[psycopg.Connection]:
    """A superuser connection for arranging and asserting (not the code under test's connection)."""
    from psycopg.rows import dict_row

    with psycopg.connect(admin_url_of(clean_db), autocommit=True, row_factory=dict_row) as connection:
        yield connection
