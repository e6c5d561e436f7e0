"""Fixed-term contracts: the early-termination charge on the final invoice, its waiver, the end-of-term
notices (CPA s14)."""

from __future__ import annotations

from datetime import date, datetime

from isp_billing import clock
from isp_billing_cli.events import LambdaContext, scheduled_event
from isp_billing_cli.template import function_by_id
from tests.billing_helpers import billed_customer, invoices_of, lines_of, run_billing
from tests.events import call_api
from tests.factories import admin_with_token, insert_package

TENTH_SEPTEMBER = datetime(2026, 9, 10, 9, 0)
TERM = {
    "term_months": 24,
    "term_start": "2026-03-01",
    "term_end": "2028-02-29",
    "activation_date": "2026-03-01",
}


def _cancel(service_id: str):
    return ("AdminServiceCancelFunction", "POST", f"/api/admin/services/{service_id}/cancel")


def _notices_job():
    handler = function_by_id("SendTermEndNoticesFunction").load_handler()
    return handler(scheduled_event("send-term-end-notices"), LambdaContext("SendTermEndNoticesFunction"))


def _on_a_24_month_term(conn, **extra):
    package = insert_package(conn, name="Fibre 24m", price="699.00", minimum_term_months=24)
    return billed_customer(conn, billing_day=1, services=[{"package_id": package, **TERM, **extra}])


def _charges(conn, customer):
    return conn.execute(
        "select kind, amount, due_date, description from customer_charges where customer_id = %s", (customer,)
    ).fetchall()


def test_cancelling_inside_the_term_adds_the_charge_to_the_final_invoice_and_shows_it(conn):
    # Given a R699 service on a 24-month term (1 March 2026 - 29 February 2028), billed on the 1st
    _, token = admin_with_token(conn, role="billing_admin")
    customer, [service] = _on_a_24_month_term(conn)
    with clock.moved_to(TENTH_SEPTEMBER):
        # When it is cancelled on 10 September with 30 September as its last day
        body = {"reason": "Moving abroad", "effective_date": "2026-09-30"}
        status, _, result = call_api(*_cancel(service), token=token, body=body)
    # Then the response shows 17 months left, 12 charged at 50 %: R4194.00
    assert status == 200, result
    early = result["early_termination"]
    assert (early["months_remaining"], early["months_charged"], early["amount"], early["waived"]) == (
        17,
        12,
        "4194.00",
        False,
    )
    # And the cancel audit row carries the same figures
    assert result["action"]["details"]["early_termination"]["amount"] == "4194.00"
    # And a once-off charge is due on the last day of service
    [charge] = _charges(conn, customer)
    assert (f"{charge['amount']:.2f}", str(charge["due_date"])) == ("4194.00", "2026-09-30")
    # And the final invoice (1 October) carries it
    run_billing(date(2026, 10, 1))
    final = invoices_of(conn, customer)[-1]
    assert ("adjustment", "4194.00") in lines_of(conn, final["id"])


def test_a_billing_admin_may_waive_the_charge_with_a_reason_and_support_may_not(conn):
    _, billing = admin_with_token(conn, role="billing_admin")
    _, support = admin_with_token(conn, role="support")
    customer, [service] = _on_a_24_month_term(conn)
    waive = {"reason": "Deceased", "effective_date": "2026-09-30", "waive_early_termination": True}
    with clock.moved_to(TENTH_SEPTEMBER):
        # When support waives: 403; a billing admin without a reason: 422
        assert call_api(*_cancel(service), token=support, body={**waive, "waiver_reason": "x"})[0] == 403
        assert call_api(*_cancel(service), token=billing, body=waive)[0] == 422
        # When a billing admin waives it with a reason
        status, _, result = call_api(
            *_cancel(service), token=billing, body={**waive, "waiver_reason": "Estate of a deceased customer"}
        )
    # Then nothing is charged and the waiver is on the response and the audit row
    assert status == 200, result
    assert (result["early_termination"]["amount"], result["early_termination"]["waived"]) == ("0.00", True)
    details = result["action"]["details"]["early_termination"]
    assert (details["computed_amount"], details["waiver_reason"]) == (
        "4194.00",
        "Estate of a deceased customer",
    )
    assert _charges(conn, customer) == []


def test_a_cancellation_at_or_after_the_term_end_or_month_to_month_costs_nothing(conn):
    _, token = admin_with_token(conn, role="billing_admin")
    customer, [service] = _on_a_24_month_term(conn)
    monthly, [month_to_month] = billed_customer(conn, billing_day=1)
    with clock.moved_to(datetime(2028, 2, 10, 9, 0)):
        result = call_api(
            *_cancel(service), token=token, body={"reason": "Done", "effective_date": "2028-02-29"}
        )[2]
        other = call_api(*_cancel(month_to_month), token=token, body={"reason": "Done"})[2]
    assert result["early_termination"] is None and other["early_termination"] is None
    assert _charges(conn, customer) == [] and _charges(conn, monthly) == []


def test_the_end_of_term_notice_is_queued_once_between_80_and_40_business_days_before_the_end(conn):
    # Given a 24-month term ending 29 February 2028, and a cancelled service whose term ends then too
    customer, _ = _on_a_24_month_term(conn)
    _on_a_24_month_term(
        conn, status="cancelled", cancellation_date="2027-09-01", cancellation_effective_date="2027-09-30"
    )
    kinds = "select count(*) as n from notifications where kind = 'term_ending'"
    # When the job runs 100 business days before: nothing
    with clock.moved_to(datetime(2027, 10, 1, 7, 30)):
        assert _notices_job()["status"] == "completed"
    assert conn.execute(kinds).fetchone()["n"] == 0
    # When it runs 60 business days before, twice: one notice
    with clock.moved_to(datetime(2027, 12, 1, 7, 30)):
        first = _notices_job()
        second = _notices_job()
    assert (first["records_processed"], second["records_processed"]) == (1, 0), (first, second)
    [notice] = conn.execute(
        "select customer_id::text as c, data from notifications where kind = 'term_ending'"
    )
    assert notice["c"] == customer and notice["data"]["term_end"] == "2028-02-29"
    assert (
        notice["data"]["monthly_price_after"] == "699.00" and 40 <= notice["data"]["business_days_left"] <= 80
    )
    # And the cancelled service got none (the one notice is the live service's)


def test_the_charge_uses_the_price_of_the_last_day_not_a_later_increase_already_recorded(conn):
    # Given a R699 service on a 24-month term whose price goes to R799 from 1 November (recorded already)
    _, token = admin_with_token(conn, role="billing_admin")
    _, [service] = _on_a_24_month_term(conn)
    with clock.moved_to(TENTH_SEPTEMBER):
        increase = {"monthly_price": "799.00", "effective_date": "2026-11-01", "reason": "Costs"}
        status, _, _ = call_api(
            "AdminServiceChangePriceFunction",
            "POST",
            f"/api/admin/services/{service}/change-price",
            token=token,
            body=increase,
        )
        assert status == 200
        # When it is cancelled with 30 September as its last day
        result = call_api(
            *_cancel(service), token=token, body={"reason": "Moving", "effective_date": "2026-09-30"}
        )[2]
    # Then the charge is on R699 (the price on 30 September): 12 x 699 x 50 % = R4194.00
    assert result["early_termination"]["amount"] == "4194.00", result
    assert result["action"]["details"]["early_termination"]["monthly_price"] == "699.00"
