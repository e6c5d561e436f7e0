"""Safe behind a transaction pooler (PgBouncer, Supavisor, RDS Proxy in transaction mode).

`make test-pooled` runs these (with the integration and function suites) with DATABASE_URL pointing at a
real PgBouncer in transaction mode; they pass on a direct connection too. Through the pooler, a client's
consecutive transactions may run on different server connections, and a server connection one client left
is handed to the next: so nothing may rely on session state (a session lock, `set role`, startup options).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import psycopg
import pytest

from isp_billing import db
from isp_billing.errors import DomainError, JobAlreadyRunning
from isp_billing.jobs import JobOutcome, run_job
from tests.conftest import TEST_CRON_SECRET
from tests.environment import settings_environment
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token, insert_service

POOLED = os.environ.get("POOLER_MODE") == "transaction"

# A job run in a process of its own: starts, says so, works for `seconds` (outside any transaction, as a
# job waiting on a provider would), then finishes. Prints the outcome.
_JOB_PROCESS = """
import sys, time
from isp_billing.errors import DomainError, JobAlreadyRunning
from isp_billing.jobs import JobOutcome, run_job

def work(run):
    print("started", flush=True)
    time.sleep(float(sys.argv[2]))
    return JobOutcome(processed=1)

try:
    row = run_job(sys.argv[1], work, trigger="manual")
    print("finished", row["status"], flush=True)
except JobAlreadyRunning:
    print("refused", flush=True)
"""


def _job_process(clean_db: str, job: str, seconds: float, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _JOB_PROCESS, job, str(seconds)],
        env={**os.environ, "DATABASE_URL": clean_db, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _wait_for_line(process: subprocess.Popen[str], expected: str, timeout: float = 60) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline().strip()
        if line == expected:
            return
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"the job process never printed {expected!r}")


def test_two_concurrent_runs_in_two_processes_one_is_refused(conn, clean_db):
    # Given a job run working in one process
    first = _job_process(clean_db, "pooled-job", 3)
    try:
        _wait_for_line(first, "started")
        # When a second process starts the same job
        second = _job_process(clean_db, "pooled-job", 0)
        out, _ = second.communicate(timeout=60)
        # Then the second is refused, and the first finishes normally
        assert out.strip().splitlines()[-1] == "refused"
        out, _ = first.communicate(timeout=60)
        assert out.strip().splitlines()[-1] == "finished completed"
    finally:
        first.kill()
    rows = conn.execute("select status from cron_execution_log where job_name = 'pooled-job'").fetchall()
    assert [r["status"] for r in rows] == ["completed"]
    # And afterwards a new run is not refused (no lock was left on any pooled server connection)
    assert run_job("pooled-job", lambda run: JobOutcome(processed=1))["status"] == "completed"


def test_a_run_killed_with_sigkill_is_taken_over_after_its_lease(conn, clean_db):
    # Given a job run with a 3-second lease, working in a process of its own
    victim = _job_process(clean_db, "killed-job", 60, JOB_LEASE_SECONDS="3")
    try:
        _wait_for_line(victim, "started")
    finally:
        # When the process is killed with SIGKILL (no clean-up of any kind)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
    killed_at = time.monotonic()
    # Then, while its lease lasts, the next run is refused
    with pytest.raises(JobAlreadyRunning):
        run_job("killed-job", lambda run: JobOutcome(processed=1))
    # And once the lease has passed, the next run takes over and completes
    row: dict[str, Any] | None = None
    while row is None and time.monotonic() - killed_at < 30:
        try:
            row = run_job("killed-job", lambda run: JobOutcome(processed=1))
        except JobAlreadyRunning:
            time.sleep(0.2)
    assert row is not None and row["status"] == "completed"
    assert time.monotonic() - killed_at < 10  # no longer than the lease (plus this machine's slack)
    log = conn.execute(
        "select status, error_message from cron_execution_log where job_name = 'killed-job'"
        " order by execution_start"
    ).fetchall()
    assert [r["status"] for r in log] == ["failed", "completed"]
    assert log[0]["error_message"].startswith("abandoned")


def _fresh_clients_see_only_the_login_role(url: str, clients: int = 8) -> None:
    """New pooled clients (each may get any server connection the pool holds) carry no leftover state."""
    for _ in range(clients):
        with psycopg.connect(url, autocommit=True, prepare_threshold=None) as client:
            row = client.execute(
                "select current_user = session_user as login_role, current_user,"
                " current_setting('request.jwt.claims', true) as claims,"
                " current_setting('statement_timeout') as statement_timeout,"
                " current_setting('session_replication_role') as replication_role"
            ).fetchone()
            assert row is not None
            login_role, user, claims, statement_timeout, replication_role = row
            assert login_role, f"a fresh client is {user}, not its login role"
            assert claims in (None, ""), "a fresh client still carries a request's JWT claims"
            assert statement_timeout == "0", "a request's statement timeout outlived its transaction"
            assert replication_role == "origin"


def test_after_each_kind_of_request_and_job_a_fresh_client_is_its_login_role(conn, clean_db):
    # Given a customer with a service, an admin, and a job
    customer_id, customer_token = customer_with_token(conn)
    insert_service(conn, customer_id)
    _, admin_token = admin_with_token(conn, role="super_admin")
    # When a customer request runs, then fresh pooled clients connect
    status, _, _ = call_api(
        "CustomerServicesListFunction", "GET", "/api/customer/services", token=customer_token
    )
    assert status == 200
    _fresh_clients_see_only_the_login_role(clean_db)
    # ... after an admin request
    status, _, _ = call_api("AdminServicesListFunction", "GET", "/api/admin/services", token=admin_token)
    assert status == 200
    _fresh_clients_see_only_the_login_role(clean_db)
    # ... after a job run through its cron route
    status, _, _ = call_api(
        "PurgeIdempotencyKeysFunction", "POST", "/api/cron/purge-idempotency-keys", token=TEST_CRON_SECRET
    )
    assert status == 200
    _fresh_clients_see_only_the_login_role(clean_db)
    # Then (asserted in each step) no client ever inherited a role, claims or a timeout


def test_the_statement_timeout_applies_through_the_pooler(clean_db):
    # Given a 300 ms statement timeout
    with settings_environment({"DB_STATEMENT_TIMEOUT_MS": "300"}):
        db.reset_connection()
        try:
            # When a service session and a customer session each run a one-second statement
            # Then the server cancels both
            for session in (
                lambda: db.service_session(),
                lambda: db.customer_session(
                    {"sub": "00000000-0000-0000-0000-000000000001", "role": "authenticated"}
                ),
            ):
                started = time.monotonic()
                with pytest.raises(DomainError) as cancelled, session() as opened:
                    connection = opened[0] if isinstance(opened, tuple) else opened
                    connection.execute("select pg_sleep(1)")
                assert cancelled.value.status in (503, 504)
                assert time.monotonic() - started < 0.9
        finally:
            db.reset_connection()


def test_the_connection_sends_no_startup_options(clean_db):
    # Given the layer's connection / When it connects / Then it sent no `options` (PgBouncer refuses them)
    db.reset_connection()
    connection = db.get_connection()
    assert "options" not in psycopg.conninfo.conninfo_to_dict(connection.info.dsn)
    db.reset_connection()


@pytest.mark.skipif(not POOLED, reason="only meaningful through the pooler")
def test_the_pooler_really_is_in_transaction_mode(clean_db):
    # Given the pooled URL / When one client sets a session-level setting and leaves
    # Then a later client can see it: server connections are shared between clients, which is why nothing
    # in the code may use session state
    marker = f"marker-{time.monotonic_ns()}"
    with psycopg.connect(clean_db, autocommit=True, prepare_threshold=None) as first:
        first.execute("select set_config('ispb_test.marker', %s, false)", (marker,))
    seen = set()
    for _ in range(8):
        with psycopg.connect(clean_db, autocommit=True, prepare_threshold=None) as other:
            seen.add(other.execute("select current_setting('ispb_test.marker', true)").fetchone()[0])
    assert marker in seen
