"""Billing periods that must be billed exactly once: backdated activations, runs that stopped for longer than
the catch-up window. Driven through the real endpoints and the job's own entry point with the moved clock."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from isp_billing import clock
from tests.billing_helpers import billed_customer, invoices_of, run_billing
from tests.events import call_api
from tests.factories import admin_with_token, insert_service


def _at(day: date, hour: int = 2) -> Any:
    return clock.moved_to(datetime.combine(day, time(hour, 0), tzinfo=clock.SAST))


def _activate(service_id: str, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    status, _, answer = call_api(
        "AdminServiceActivateFunction",
        "POST",
        f"/api/admin/services/{service_id}/activate",
        token=token,
        body=body,
    )
    return status, answer


def _service_lines(conn, invoice_id: Any, service_id: str) -> list[tuple[str, str, str, str]]:
    rows = conn.execute(
        """
        select kind, amount, period_start, period_end from invoice_line_items
         where invoice_id = %s and service_id = %s order by period_start
        """,
        (invoice_id, service_id),
    ).fetchall()
    return [(r["kind"], f"{r['amount']:.2f}", str(r["period_start"]), str(r["period_end"])) for r in rows]


def test_a_backdated_activation_is_billed_from_its_activation_date_on_the_next_invoice(conn):
    # Given billing day 1, a R300 service billed on 1 Feb, and a pending R500 service
    _, token = admin_with_token(conn, role="support")
    customer, _ = billed_customer(
        conn, billing_day=1, services=[{"price": "300.00", "activation_date": "2026-01-01"}]
    )
    second = insert_service(conn, customer, status="pending", price="500.00")
    with _at(date(2026, 2, 1)):
        run_billing()
    # When support activates it on 3 Feb with its real install date, 31 January
    with _at(date(2026, 2, 3), hour=10):
        status, answer = _activate(second, token, {"activation_date": "2026-01-31"})
    assert status == 200, answer
    with _at(date(2026, 3, 1)):
        run_billing()
    with _at(date(2026, 4, 1)):
        run_billing()
    # Then the March invoice bills 31 Jan pro-rata (500 x 1 / 31), all of February and March, each a line
    march, april = invoices_of(conn, customer)[1:]
    assert _service_lines(conn, march["id"], second) == [
        ("pro_rata", "16.13", "2026-01-31", "2026-01-31"),
        ("recurring", "500.00", "2026-02-01", "2026-02-28"),
        ("recurring", "500.00", "2026-03-01", "2026-03-31"),
    ]
    assert str(march["total_amount"]) == "1316.13"
    # And April bills April only: nothing twice
    april_lines = _service_lines(conn, april["id"], second)
    assert april_lines == [("recurring", "500.00", "2026-04-01", "2026-04-30")]
    sources = conn.execute(
        """
        select source->>'rule' as rule from invoice_line_items
         where service_id = %s and period_end < '2026-03-01'
        """,
        (second,),
    ).fetchall()
    assert sorted(row["rule"] for row in sources) == ["missed_period", "missed_period"]


def test_an_activation_recorded_after_the_next_billing_date_bills_every_missed_period(conn):
    # Given billing day 1 and a pending R500 service; nothing billed for it on 1 Feb or 1 Mar
    _, token = admin_with_token(conn, role="support")
    customer, _ = billed_customer(conn, billing_day=1, services=[{"price": "300.00"}])
    second = insert_service(conn, customer, status="pending", price="500.00")
    for day in (date(2026, 2, 1), date(2026, 3, 1)):
        with _at(day):
            run_billing()
    # When it is activated on 3 March with an install date of 31 January (31 days back)
    with _at(date(2026, 3, 3), hour=10):
        assert _activate(second, token, {"activation_date": "2026-01-31"})[0] == 200
    with _at(date(2026, 4, 1)):
        run_billing()
    # Then the April invoice bills 31 Jan, February, March (all missed) and April
    april = invoices_of(conn, customer)[-1]
    assert _service_lines(conn, april["id"], second) == [
        ("pro_rata", "16.13", "2026-01-31", "2026-01-31"),
        ("recurring", "500.00", "2026-02-01", "2026-02-28"),
        ("recurring", "500.00", "2026-03-01", "2026-03-31"),
        ("recurring", "500.00", "2026-04-01", "2026-04-30"),
    ]


def test_an_activation_date_beyond_62_days_needs_a_billing_admins_explicit_confirmation(conn):
    # Given a pending service, a support agent and a billing admin, on 6 Feb 2026
    _, support = admin_with_token(conn, role="support")
    _, billing = admin_with_token(conn, role="billing_admin")
    customer, _ = billed_customer(conn, billing_day=1, services=[])
    service = insert_service(conn, customer, status="pending", price="499.00")
    with _at(date(2026, 2, 6), hour=10):
        # When the activation date is 2000-01-01, or 63 days back / Then 422, the service still pending
        for body in ({"activation_date": "2000-01-01"}, {"activation_date": "2025-12-05"}):
            status, answer = _activate(service, support, body)
            assert status == 422 and "activation_date" in str(answer), answer
        # When support "confirms" it / Then 403: only a billing admin may
        body = {"activation_date": "2025-12-05", "confirm_backdated": True}
        assert _activate(service, support, body)[0] == 403
        row = conn.execute("select status from customer_services where id = %s", (service,)).fetchone()
        assert row["status"] == "pending"
        # When a billing admin confirms it explicitly / Then 200
        status, answer = _activate(service, billing, body)
        assert status == 200, answer
    row = conn.execute("select activation_date from customer_services where id = %s", (service,)).fetchone()
    assert str(row["activation_date"]) == "2025-12-05"


def test_an_activation_date_62_days_back_is_accepted_without_confirmation(conn):
    _, support = admin_with_token(conn, role="support")
    customer, _ = billed_customer(conn, billing_day=1, services=[])
    service = insert_service(conn, customer, status="pending", price="499.00")
    # Given 6 Feb 2026 / When the activation date is 6 Dec 2025 (62 days back) / Then 200
    with _at(date(2026, 2, 6), hour=10):
        status, answer = _activate(service, support, {"activation_date": "2025-12-06"})
    assert status == 200, answer


def _job_health(token: str) -> dict[str, Any]:
    status, _, body = call_api("AdminCronJobsFunction", "GET", "/api/admin/cron/jobs", token=token)
    assert status == 200, body
    jobs = body["data"] if isinstance(body, dict) and "data" in body else body
    return next(job for job in jobs if job["job_name"] == "generate-invoices")


def test_an_outage_longer_than_the_catch_up_window_drops_no_billing_date(conn):
    # Given customers billed on the 13th and the 20th, and a run on 10 Feb, then none until 22 March
    _, token = admin_with_token(conn, role="billing_admin")
    thirteenth, _ = billed_customer(conn, billing_day=13, services=[{"price": "300.00"}])
    twentieth, _ = billed_customer(conn, billing_day=20, services=[{"price": "400.00"}])
    with _at(date(2026, 2, 10)):
        run_billing()
    # When the 22 March run catches up (35 days at most from the first date still to bill, 13 Feb)
    with _at(date(2026, 3, 22)):
        first = run_billing()
        health = _job_health(token)
    # Then the billing-day-13 customer's 13 Feb - 12 Mar period is billed, in order, then 13 March
    assert [str(i["period_start"]) for i in invoices_of(conn, thirteenth)] == ["2026-02-13", "2026-03-13"]
    # And what the run could not reach (20 March) is a validation error naming the customer and the period;
    # the run is partial, and the jobs view shows it
    assert [str(i["period_start"]) for i in invoices_of(conn, twentieth)] == ["2026-02-20"]
    assert first["status"] == "partial" and first["records_failed"] == 1, first
    assert health["last_status"] == "partial"
    error = conn.execute(
        """
        select record_id, error_code, message, payload from validation_errors
         where source = 'billing_run' and resolved_at is null
        """
    ).fetchall()
    assert len(error) == 1 and str(error[0]["record_id"]) == twentieth
    assert error[0]["payload"]["periods"] == [{"start": "2026-03-20", "end": "2026-04-19"}]
    assert "2026-03-20" in error[0]["message"]
    # When the next day's run comes / Then it bills the period left, completes and the error is resolved
    with _at(date(2026, 3, 23)):
        second = run_billing()
    assert second["status"] == "completed", second
    assert [str(i["period_start"]) for i in invoices_of(conn, twentieth)] == ["2026-02-20", "2026-03-20"]
    open_errors = conn.execute(
        "select count(*) as n from validation_errors where source = 'billing_run' and resolved_at is null"
    ).fetchone()
    assert open_errors["n"] == 0
