"""The job runner: a log row per run, one run at a time, failures recorded, crashed runs not blocking."""

import threading

import pytest

from isp_billing import db
from isp_billing.errors import JobAlreadyRunning
from isp_billing.jobs import JobOutcome, run_job


def test_a_run_is_logged_with_its_counts(conn):
    # Given a job that processes three records, fails one and skips one
    # When it runs
    row = run_job("test-job", lambda run: JobOutcome(processed=3, failed=1, skipped=1, details={"n": 3}))
    # Then its log row is finished as partial with those counts and a duration
    logged = conn.execute("select * from cron_execution_log where id = %s", (row["id"],)).fetchone()
    assert logged["status"] == "partial"
    assert (logged["records_processed"], logged["records_failed"], logged["records_skipped"]) == (3, 1, 1)
    assert logged["execution_end"] is not None and logged["duration_seconds"] >= 0
    assert logged["details"]["n"] == 3


def test_a_second_concurrent_run_is_refused(conn):
    # Given a run of a job that is still working
    started, release = threading.Event(), threading.Event()

    def slow(run):
        started.set()
        assert release.wait(10)
        return JobOutcome(processed=1)

    first = threading.Thread(target=run_job, args=("concurrent-job", slow))
    first.start()
    assert started.wait(10)
    try:
        # When a second run of the same job starts
        # Then it is refused with a clear message and logs nothing
        with pytest.raises(JobAlreadyRunning, match="already running"):
            run_job("concurrent-job", lambda run: JobOutcome())
    finally:
        release.set()
        first.join(10)
    rows = conn.execute("select status from cron_execution_log where job_name = 'concurrent-job'").fetchall()
    assert [row["status"] for row in rows] == ["completed"]


def test_a_failing_run_is_logged_as_failed_and_re_raised(conn):
    # Given a job whose work raises
    def broken(run):
        raise RuntimeError("customer Jane Doe, account 12345678")

    # When it runs / Then the error propagates (so Lambda counts it) and the row says failed
    with pytest.raises(RuntimeError):
        run_job("broken-job", broken)
    row = conn.execute(
        "select status, error_message from cron_execution_log where job_name = 'broken-job'"
    ).fetchone()
    assert row["status"] == "failed"
    # Only the error's class is stored: the message could carry personal data.
    assert row["error_message"] == "RuntimeError"


def test_a_run_left_running_by_a_dead_process_does_not_block_the_next(conn):
    # Given a 'running' row whose process died (no lock is held)
    conn.execute(
        "insert into cron_execution_log (job_name, trigger, run_date, execution_start, status)"
        " values ('crashy-job', 'schedule', current_date, now() - interval '1 hour', 'running')"
    )
    # When the job runs again
    row = run_job("crashy-job", lambda run: JobOutcome(processed=1))
    # Then it completes, and the dead run is closed as failed
    assert row["status"] == "completed"
    statuses = conn.execute(
        "select status, error_message from cron_execution_log where job_name = 'crashy-job'"
        " order by execution_start"
    ).fetchall()
    assert statuses[0]["status"] == "failed" and "abandoned" in statuses[0]["error_message"]
    assert statuses[1]["status"] == "completed"


def test_work_can_use_service_sessions_while_the_lock_is_held(conn):
    # Given a job whose work writes through the shared connection
    def work(run):
        with db.service_session() as session:
            session.execute("insert into vat_rates (rate, effective_from) values (15.50, '2099-01-01')")
        return JobOutcome(processed=1)

    # When it runs / Then its write is committed
    run_job("writer-job", work)
    assert (
        conn.execute("select count(*) as n from vat_rates where effective_from = '2099-01-01'").fetchone()[
            "n"
        ]
        == 1
    )
    conn.execute("delete from vat_rates where effective_from = '2099-01-01'")
