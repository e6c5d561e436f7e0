"""GenerateInvoicesFunction: the EventBridge schedule and POST /api/cron/generate-invoices."""

from __future__ import annotations

from datetime import datetime

from isp_billing import clock
from isp_billing_cli.events import LambdaContext, scheduled_event
from isp_billing_cli.template import function_by_id
from tests.billing_helpers import billed_customer, table_counts
from tests.conftest import TEST_CRON_SECRET
from tests.events import call_api
from tests.factories import admin_with_token

ROUTE = ("GenerateInvoicesFunction", "POST", "/api/cron/generate-invoices")


def test_the_schedule_bills_the_sast_date_even_late_in_the_utc_evening(conn):
    # Given a customer billed on the 1st, and a run at 23:30 SAST on 31 March (nothing due)
    customer, _ = billed_customer(conn, billing_day=1)
    handler = function_by_id("GenerateInvoicesFunction").load_handler()
    with clock.moved_to(datetime.fromisoformat("2026-03-31T23:30:00+02:00")):
        handler(scheduled_event("generate-invoices"), LambdaContext("GenerateInvoicesFunction"))
    assert conn.execute("select count(*) as n from customer_invoices").fetchone()["n"] == 0
    # When the schedule fires at 00:30 SAST (22:30 UTC on 31 March)
    with clock.moved_to(datetime.fromisoformat("2026-03-31T22:30:00+00:00")):
        result = handler(scheduled_event("generate-invoices"), LambdaContext("GenerateInvoicesFunction"))
    # Then 1 April (the SAST date) is billed, by a scheduled run
    assert result["trigger"] == "schedule" and result["records_processed"] == 1
    row = conn.execute("select invoice_date from customer_invoices where customer_id = %s", (customer,))
    assert str(row.fetchone()["invoice_date"]) == "2026-04-01"


def test_the_cron_route_takes_run_date_and_dry_run(conn):
    billed_customer(conn, billing_day=5)
    status, _, body = call_api(
        *ROUTE, token=TEST_CRON_SECRET, body={"run_date": "2026-03-05", "dry_run": True}
    )
    assert status == 200 and body["records_processed"] == 1 and body["details"]["dry_run"] is True
    assert conn.execute("select count(*) as n from customer_invoices").fetchone()["n"] == 0
    status, _, body = call_api(*ROUTE, token=TEST_CRON_SECRET, body={"run_date": "2026-03-05"})
    assert status == 200 and body["records_processed"] == 1


def test_an_unknown_option_or_a_bad_date_is_422_and_writes_nothing(conn):
    # Given a due customer
    billed_customer(conn, billing_day=5)
    before = table_counts(conn)
    for body in ({"run_date": "2026-03-05", "force": True}, {"run_date": "5 March"}, {"dry_run": "maybe"}):
        # When the body has another field or a bad value / Then 422; nothing written, not even a log
        status, headers, problem = call_api(*ROUTE, token=TEST_CRON_SECRET, body=body)
        assert status == 422 and headers["content-type"] == "application/problem+json", problem
    assert table_counts(conn) == before
    assert conn.execute("select count(*) as n from cron_execution_log").fetchone()["n"] == 0


def test_a_billing_admin_may_start_it_and_support_may_not(conn):
    _, billing = admin_with_token(conn, role="billing_admin")
    _, support = admin_with_token(conn, role="support")
    assert call_api(*ROUTE, token=billing, body={"run_date": "2026-03-05"})[0] == 200
    assert call_api(*ROUTE, token=support, body={"run_date": "2026-03-06"})[0] == 403


def test_a_run_date_after_today_sast_is_422_unless_it_is_a_dry_run(conn):
    # Given a customer billed on the 16th, and the clock at 10:03 SAST on 15 August 2027
    billed_customer(conn, billing_day=16)
    before = table_counts(conn)
    with clock.moved_to(datetime.fromisoformat("2027-08-15T10:03:00+02:00")):
        # When a run is asked for tomorrow, or for a month ahead
        for run_date in ("2027-08-16", "2027-09-18"):
            status, headers, problem = call_api(*ROUTE, token=TEST_CRON_SECRET, body={"run_date": run_date})
            # Then 422, and no invoice is issued early, not even a log row
            assert status == 422 and headers["content-type"] == "application/problem+json", problem
            assert "run_date" in str(problem)
        assert table_counts(conn) == before
        assert conn.execute("select count(*) as n from cron_execution_log").fetchone()["n"] == 0
        # When the same future date is a dry run / Then it is a preview that may look ahead
        status, _, body = call_api(
            *ROUTE, token=TEST_CRON_SECRET, body={"run_date": "2027-08-16", "dry_run": True}
        )
        assert status == 200 and body["details"]["dry_run"] is True and body["records_processed"] == 1
        # When the run date is today / Then it runs
        status, _, body = call_api(*ROUTE, token=TEST_CRON_SECRET, body={"run_date": "2027-08-15"})
        assert status == 200
    assert conn.execute("select count(*) as n from customer_invoices").fetchone()["n"] == 0
