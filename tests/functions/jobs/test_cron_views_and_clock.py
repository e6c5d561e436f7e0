"""GET /api/admin/cron/logs, GET /api/admin/cron/jobs and the admin clock route."""

from __future__ import annotations

from datetime import date, datetime

from isp_billing import clock
from isp_billing.jobs.schedules import JOBS
from isp_billing_cli import job_schedules
from tests.billing_helpers import billed_customer, run_billing
from tests.environment import settings_environment
from tests.events import call_api
from tests.factories import admin_with_token

LOGS = ("AdminCronLogsFunction", "GET", "/api/admin/cron/logs")
JOBS_ROUTE = ("AdminCronJobsFunction", "GET", "/api/admin/cron/jobs")
CLOCK = "AdminClockFunction"


def test_the_generated_job_schedules_match_template_yaml():
    # Given template.yaml / Then the module the functions read is what the generator writes from it
    assert job_schedules.is_current(), "run `isp-billing job-schedules`"
    assert {job.job_name for job in JOBS} >= {
        "generate-invoices",
        "purge-idempotency-keys",
        "backfill-orders",
    }


def test_cron_logs_newest_first_with_filters_and_a_cursor(conn):
    # Given three billing runs and one admin-triggered run by a support admin's colleague
    _, token = admin_with_token(conn, role="support")
    billed_customer(conn, billing_day=5)
    for day in (5, 6, 7):
        run_billing(date(2026, 3, day))
    conn.execute(
        "update cron_execution_log set status = 'partial' where run_date is not null and "
        "details->>'billed_through' = '2026-03-06'"
    )
    # When any admin lists them, two per page
    status, _, first = call_api(*LOGS, token=token, query="limit=2&job=generate-invoices")
    assert status == 200, first
    status, _, second = call_api(*LOGS, token=token, query=f"limit=2&cursor={first['next_cursor']}")
    # Then newest first, with durations and counts, across pages without overlap
    through = [row["details"]["billed_through"] for row in first["items"] + second["items"]]
    assert through == ["2026-03-07", "2026-03-06", "2026-03-05"] and second["next_cursor"] is None
    assert first["items"][0]["duration_seconds"] is not None and first["items"][1]["records_processed"] == 0
    assert first["items"][2:] == [] and first["items"][0]["chunks"] == []
    status, _, partial = call_api(*LOGS, token=token, query="status=partial")
    assert [row["details"]["billed_through"] for row in partial["items"]] == ["2026-03-06"]


def test_a_fan_out_parent_shows_its_chunks(conn):
    # Given a fanned-out run with two chunks done and one failed (after three deliveries)
    _, token = admin_with_token(conn)
    parent = conn.execute(
        "insert into cron_execution_log (job_name, trigger, status, execution_end) values"
        " ('generate-invoices', 'schedule', 'partial', now()) returning id"
    ).fetchone()["id"]
    for chunk_no, state in enumerate(("done", "done", "failed")):
        conn.execute(
            "insert into cron_job_chunks (parent_run_id, chunk_no, items, status, records_processed,"
            " attempts,"
            ' finished_at, error_message) values (%s, %s, \'["a", "b"]\', %s, %s, %s, now(), %s)',
            (
                parent,
                chunk_no,
                state,
                2 if state == "done" else 0,
                3 if state == "failed" else 1,
                "RuntimeError" if state == "failed" else None,
            ),
        )
    # When the logs are listed / Then the parent carries its chunks' counts and the chunks themselves
    _, _, body = call_api(*LOGS, token=token)
    [row] = body["items"]
    assert row["chunk_counts"] == {"done": 2, "failed": 1}
    assert [(c["chunk_no"], c["status"], c["items"]) for c in row["chunks"]] == [
        (0, "done", 2),
        (1, "done", 2),
        (2, "failed", 2),
    ]
    assert row["chunks"][2]["attempts"] == 3 and row["chunks"][2]["error_message"] == "RuntimeError"


def test_cron_jobs_show_schedule_last_run_next_due_and_missed(conn):
    # Given the billing run completed at 02:00 SAST today, and the purge job never ran
    _, token = admin_with_token(conn, role="support")
    with clock.moved_to(datetime(2026, 3, 5, 2, 0, tzinfo=clock.SAST)):
        run_billing()
    # (the log's timestamps are the database's now(), so they are put where the moved clock ran it)
    conn.execute(
        "update cron_execution_log set execution_start = '2026-03-05 02:00:01+02',"
        " execution_end = '2026-03-05 02:00:03+02'"
    )
    # When the jobs are listed at 10:00 SAST
    with clock.moved_to(datetime(2026, 3, 5, 10, 0, tzinfo=clock.SAST)):
        status, _, body = call_api(*JOBS_ROUTE, token=token)
    # Then billing is not missed and next runs tomorrow 02:00; the purge is missed
    assert status == 200, body
    jobs = {row["job_name"]: row for row in body}
    billing = jobs["generate-invoices"]
    assert billing["schedule"] == "cron(0 2 * * ? *)" and billing["missed"] is False
    assert billing["next_due_at"].startswith("2026-03-06T02:00:00")
    assert billing["last_status"] == "completed"
    assert jobs["purge-idempotency-keys"]["missed"] is True
    # (the order backfill runs every 15 minutes on what changed; it never ran here)
    assert jobs["backfill-orders"]["schedule"] == "cron(5/15 * * * ? *)" and jobs["backfill-orders"]["missed"]
    # And a day later without a run, billing is missed
    with clock.moved_to(datetime(2026, 3, 6, 4, 0, tzinfo=clock.SAST)):
        _, _, later = call_api(*JOBS_ROUTE, token=token)
    assert {row["job_name"]: row for row in later}["generate-invoices"]["missed"] is True


def test_the_clock_route_moves_the_clock_for_super_admins_only(conn):
    _, super_token = admin_with_token(conn, role="super_admin")
    _, billing_token = admin_with_token(conn, role="billing_admin")
    try:
        status, _, body = call_api(
            CLOCK, "POST", "/api/admin/clock", token=super_token, body={"today": "2027-02-28"}
        )
        assert status == 200 and body["today"] == "2027-02-28" and body["moved"] is True
        assert clock.sast_today() == date(2027, 2, 28)
        assert (
            call_api(CLOCK, "POST", "/api/admin/clock", token=billing_token, body={"reset": True})[0] == 403
        )
        assert call_api(CLOCK, "POST", "/api/admin/clock", token=super_token, body={})[0] == 422
        status, _, body = call_api(CLOCK, "POST", "/api/admin/clock", token=super_token, body={"reset": True})
        assert status == 200 and body["moved"] is False
    finally:
        clock.reset()


def test_there_is_no_clock_in_production(conn):
    import pytest

    from isp_billing.auth import AdminPrincipal
    from isp_billing.clock import admin as clock_admin
    from isp_billing.clock.models import MoveClockRequest
    from isp_billing.errors import NotFound

    # Given a production stage / When the clock is read or moved / Then there is no such thing (404)
    admin = AdminPrincipal(admin_id=None, auth_user_id=None, role="super_admin", email="a@b.c", full_name="A")
    with settings_environment({"STAGE": "prod", "JWT_SECRET": "p" * 48}):
        with pytest.raises(NotFound):
            clock_admin.read(admin)
        with pytest.raises(NotFound):
            clock_admin.move(admin, MoveClockRequest(today=date(2027, 1, 1)))
    assert not clock.is_moved()
