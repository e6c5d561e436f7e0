"""Job runs hold a lease on their `running` row (no session lock), and every session's settings are
transaction-local: nothing a unit of work sets survives it on the connection."""

from __future__ import annotations

import pytest

from isp_billing import db
from isp_billing.errors import JobAlreadyRunning, JobLeaseLost
from isp_billing.jobs import JobOutcome, JobRun, run_job
from tests.environment import settings_environment


def _running_row(conn, job_name: str, lease: str | None) -> str:
    lease_sql = "null" if lease is None else f"now() + interval '{lease}'"
    row = conn.execute(
        "insert into cron_execution_log"
        " (job_name, trigger, run_date, execution_start, status, lease_expires_at)"
        f" values (%s, 'schedule', current_date, now() - interval '1 minute', 'running', {lease_sql})"
        " returning id",
        (job_name,),
    ).fetchone()
    return str(row["id"])


def test_a_live_lease_refuses_a_second_run_and_leaves_the_first_alone(conn):
    # Given a running row whose lease has not expired (its process is alive somewhere)
    first = _running_row(conn, "leased-job", "5 minutes")
    # When the job is started again
    # Then it is refused with 409 and the live run's row is untouched
    with pytest.raises(JobAlreadyRunning) as refused:
        run_job("leased-job", lambda run: JobOutcome(processed=1))
    assert refused.value.status == 409
    rows = conn.execute("select id, status from cron_execution_log where job_name = 'leased-job'").fetchall()
    assert [(str(r["id"]), r["status"]) for r in rows] == [(first, "running")]


def test_an_expired_lease_is_taken_over_and_the_dead_run_marked_abandoned(conn):
    # Given a running row whose lease passed a second ago (its process died)
    dead = _running_row(conn, "crashed-job", "-1 second")
    # When the job runs again
    row = run_job("crashed-job", lambda run: JobOutcome(processed=2))
    # Then the new run completes and the dead one is closed as failed, saying why
    assert row["status"] == "completed" and row["records_processed"] == 2
    closed = conn.execute(
        "select status, error_message, execution_end from cron_execution_log where id = %s", (dead,)
    ).fetchone()
    assert closed["status"] == "failed" and closed["execution_end"] is not None
    assert closed["error_message"].startswith("abandoned: its lease expired")


def test_a_run_has_a_lease_of_the_configured_length_while_it_works(conn):
    # Given a lease of 120 seconds / When a run's work looks at its own row
    seen = {}

    def work(run: JobRun) -> JobOutcome:
        seen.update(
            conn.execute(
                "select status, extract(epoch from lease_expires_at - execution_start) as seconds"
                " from cron_execution_log where id = %s",
                (run.id,),
            ).fetchone()
        )
        return JobOutcome()

    with settings_environment({"JOB_LEASE_SECONDS": "120"}):
        finished = run_job("lease-length-job", work)
    # Then the row is running with a lease of about that length, cleared when the run ends
    assert seen["status"] == "running" and 119 <= float(seen["seconds"]) <= 125
    assert finished["lease_expires_at"] is None


def test_renewing_pushes_the_lease_forward(conn):
    # Given a run with a short lease
    leases = []

    def work(run: JobRun) -> JobOutcome:
        def lease():
            return conn.execute(
                "select lease_expires_at from cron_execution_log where id = %s", (run.id,)
            ).fetchone()["lease_expires_at"]

        leases.append(lease())
        conn.execute("select pg_sleep(0.05)")
        # When the work renews it between batches
        run.renew_lease()
        leases.append(lease())
        return JobOutcome()

    with settings_environment({"JOB_LEASE_SECONDS": "30"}):
        run_job("renewing-job", work)
    # Then the lease ends later than before
    assert leases[1] > leases[0]


def test_a_run_that_lost_its_lease_stops_at_its_next_renewal(conn):
    # Given a run whose lease expired while it worked, and a second run that took over
    def work(run: JobRun) -> JobOutcome:
        conn.execute(
            "update cron_execution_log set lease_expires_at = now() - interval '1 second' where id = %s",
            (run.id,),
        )
        run_job("overtaken-job", lambda second: JobOutcome(processed=1))
        # When the first run renews its lease
        run.renew_lease()
        return JobOutcome(processed=99)

    # Then it is told it lost the lease and stops; its row says it was abandoned, the second completed
    with pytest.raises(JobLeaseLost):
        run_job("overtaken-job", work)
    rows = conn.execute(
        "select status, records_processed from cron_execution_log where job_name = 'overtaken-job'"
        " order by execution_start"
    ).fetchall()
    assert [(r["status"], r["records_processed"]) for r in rows] == [("failed", 0), ("completed", 1)]


def _session_settings(session) -> dict:
    return session.execute(
        "select current_setting('statement_timeout') as statement_timeout,"
        " current_setting('lock_timeout') as lock_timeout,"
        " current_setting('idle_in_transaction_session_timeout') as idle_timeout,"
        " current_user as role"
    ).fetchone()


def test_request_and_job_sessions_set_their_timeouts_for_their_transaction_only(clean_db):
    # Given short request, batch, lock and idle timeouts
    timeouts = {
        "DB_STATEMENT_TIMEOUT_MS": "1500",
        "DB_BATCH_STATEMENT_TIMEOUT_MS": "45000",
        "DB_LOCK_TIMEOUT_MS": "700",
        "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS": "20000",
    }
    seen = {}
    with settings_environment(timeouts):
        db.reset_connection()
        # When a request session, a job's session and a plain connection state report their settings
        with db.service_session() as session:
            seen["request"] = _session_settings(session)

        def work(run: JobRun) -> JobOutcome:
            with db.service_session() as session:
                seen["job"] = _session_settings(session)
            return JobOutcome()

        run_job("settings-job", work)
        after = (
            db.get_connection()
            .execute("select current_setting('statement_timeout') as statement_timeout, current_user as role")
            .fetchone()
        )
        db.reset_connection()
    # Then each transaction had its own bounds, and none of them is left on the connection afterwards
    assert seen["request"] == {
        "statement_timeout": "1500ms",
        "lock_timeout": "700ms",
        "idle_timeout": "20s",
        "role": "service_role",
    }
    assert seen["job"]["statement_timeout"] == "45s" and seen["job"]["lock_timeout"] == "700ms"
    assert after["statement_timeout"] == "0" and after["role"] != "service_role"


def test_a_statement_beyond_the_request_timeout_is_cancelled(clean_db):
    # Given a 300 ms statement timeout
    with settings_environment({"DB_STATEMENT_TIMEOUT_MS": "300"}):
        db.reset_connection()
        # When a session runs a one-second statement / Then the server cancels it
        with pytest.raises(Exception) as cancelled, db.service_session() as session:
            session.execute("select pg_sleep(1)")
        db.reset_connection()
    assert "cancel" in str(cancelled.value).lower() or "not reachable" in str(cancelled.value)
