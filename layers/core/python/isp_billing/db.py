"""Data access plumbing: one lazy connection per execution environment, one transaction per unit of work.

Customer work runs as role `authenticated` with `request.jwt.claims` set for the transaction only, exactly
like Supabase's PostgREST, so Row Level Security is a second wall behind every WHERE clause. Admin and job
work runs as `service_role`. `prepare_threshold=None` keeps psycopg off server-side prepared statements,
which transaction-pooling proxies (RDS Proxy, Supavisor, PgBouncer) cannot share between clients.

No session state: a transaction pooler hands each transaction to whichever server connection is free, so
everything a unit of work needs (role, claims, statement/lock/idle timeouts) is set with
`set_config(..., true)` inside the transaction, in the same round trip as its BEGIN, and dies with it.
Nothing is sent as a startup parameter (PgBouncer refuses `options`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from isp_billing.errors import ConfigurationError, DatabaseUnavailable
from isp_billing.observability import logger
from isp_billing.settings import get_settings

Connection = psycopg.Connection[dict[str, Any]]

_connection: Connection | None = None
# Lambda runs one request at a time per environment; the lock keeps the local server (threads) honest too.
# A plain Lock, not an RLock: FastAPI may enter and leave a session on different worker threads.
_lock = threading.Lock()
# Set while a job's work runs (jobs.run_job): its sessions get the batch statement timeout.
_batch_work: ContextVar[bool] = ContextVar("isp_billing_batch_work", default=False)


def _database_url() -> str:
    settings = get_settings()
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    if settings.database_secret_arn:
        return _url_from_secret(settings.database_secret_arn)
    raise ConfigurationError("invalid configuration: DATABASE_URL: is required (or DATABASE_SECRET_ARN)")


def _url_from_secret(secret_arn: str) -> str:
    """An RDS-style JSON secret (host, port, username, password, dbname) from Secrets Manager, cached."""
    from aws_lambda_powertools.utilities import parameters  # imported here: only deployed stacks need boto3

    secret = parameters.get_secret(secret_arn, transform="json", max_age=300)
    if not isinstance(secret, dict):
        raise ConfigurationError("invalid configuration: DATABASE_SECRET_ARN: secret is not a JSON object")
    return psycopg.conninfo.make_conninfo(
        host=secret["host"],
        port=str(secret.get("port", 5432)),
        user=secret["username"],
        password=secret["password"],
        dbname=secret.get("dbname", "postgres"),
        sslmode=secret.get("sslmode", "require"),
    )


def connect(url: str | None = None) -> Connection:
    """A new connection (autocommit; transactions are explicit). Raises DatabaseUnavailable, never a trace."""
    settings = get_settings()
    try:
        return psycopg.connect(
            url or _database_url(),
            autocommit=True,
            prepare_threshold=None,
            row_factory=dict_row,
            connect_timeout=settings.db_connect_timeout_seconds,
            application_name="isp-billing",
        )
    except psycopg.OperationalError as error:
        # The server's message can carry the host and user: log the class only.
        logger.error("database connection failed", extra={"error_type": type(error).__name__})
        raise DatabaseUnavailable("The database is not reachable right now; try again shortly.") from None


def get_connection() -> Connection:
    """The environment's connection, opened on first use and reopened if the server dropped it."""
    global _connection
    if _connection is None or _connection.closed or _connection.broken:
        _connection = connect()
    return _connection


def reset_connection() -> None:
    """Close the cached connection (tests and the local runner switch databases)."""
    global _connection
    if _connection is not None and not _connection.closed:
        _connection.close()
    _connection = None


@contextmanager
def batch_work() -> Iterator[None]:
    """Sessions opened inside (in this thread or task) are batch work: the batch statement timeout applies."""
    token = _batch_work.set(True)
    try:
        yield
    finally:
        _batch_work.reset(token)


def _timeouts(batch: bool | None) -> sql.Composable:
    """The transaction's timeouts as select-list items (transaction-local: pooler-safe)."""
    settings = get_settings()
    is_batch = _batch_work.get() if batch is None else batch
    statement_ms = settings.db_batch_statement_timeout_ms if is_batch else settings.db_statement_timeout_ms
    return sql.SQL(
        "set_config('statement_timeout', {statement}, true) as statement_timeout,"
        " set_config('lock_timeout', {lock}, true) as lock_timeout,"
        " set_config('idle_in_transaction_session_timeout', {idle}, true) as idle_timeout"
    ).format(
        statement=sql.Literal(f"{statement_ms}ms"),
        lock=sql.Literal(f"{settings.db_lock_timeout_ms}ms"),
        idle=sql.Literal(f"{settings.db_idle_in_transaction_timeout_ms}ms"),
    )


@contextmanager
def _unit_of_work(
    setup: sql.Composable, *, batch: bool | None = None
) -> Iterator[tuple[Connection, dict[str, Any]]]:
    """One transaction, opened together with its settings in a single round trip.

    `begin; select <timeouts>, <setup>` goes as one simple-query message (values are quoted literals, so
    no parameters), instead of psycopg's separate BEGIN. Code inside may still use `conn.transaction()`:
    psycopg sees the open transaction and makes it a savepoint.
    """
    with _lock:
        conn = get_connection()
        try:
            cursor = conn.execute(
                sql.Composed([sql.SQL("begin; select "), _timeouts(batch), sql.SQL(", "), setup])
            )
            while cursor.nextset():  # past BEGIN's (and any earlier setup statement's) result to the last row
                pass
            row = cursor.fetchone() or {}
            try:
                yield conn, row
            except BaseException:
                if not conn.broken:
                    conn.execute("rollback")
                raise
            conn.execute("commit")
        except psycopg.OperationalError as error:
            logger.error("database error", extra={"error_type": type(error).__name__})
            if conn.broken:
                reset_connection()
            raise DatabaseUnavailable("The database is not reachable right now; try again shortly.") from None


@contextmanager
def service_session(*, batch: bool | None = None) -> Iterator[Connection]:
    """A transaction as `service_role` (bypasses RLS): admin and job work, which checks roles in code.

    `batch` picks the batch statement timeout; by default it applies inside a job's work (`batch_work`).
    """
    with _unit_of_work(sql.SQL("set_config('role', 'service_role', true) as role"), batch=batch) as (conn, _):
        yield conn


@contextmanager
def customer_session(claims: dict[str, Any]) -> Iterator[tuple[Connection, Any]]:
    """A transaction as `api_customer` with the caller's claims; yields (conn, the caller's customer id).

    One round trip opens the transaction, sets the timeouts, the role and the claims, and finds the
    caller's customer row (None when unlinked). The lookup is a statement of its own: privileges are checked
    when a statement starts, so in the same SELECT as the role switch it would be checked against the login
    role, which (the runtime role, owning nothing) may read no table.
    """
    setup = sql.SQL(
        "set_config('request.jwt.claims', {claims}, true) as claims,"
        " set_config('role', 'api_customer', true) as role;"
        " select (select id from public.customers where auth_user_id = {sub}::uuid) as customer_id"
    ).format(claims=sql.Literal(json.dumps(claims)), sub=sql.Literal(str(claims["sub"])))
    with _unit_of_work(setup, batch=False) as (conn, row):
        yield conn, row.get("customer_id")
