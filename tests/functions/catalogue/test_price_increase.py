"""A price increase for every subscriber of a package: notice, the change-price rule, negotiated prices."""

from __future__ import annotations

from datetime import date, datetime

from isp_billing import clock
from tests.billing_helpers import billed_customer, invoices_of, lines_of, run_billing
from tests.events import call_api
from tests.factories import admin_with_token, insert_package

TENTH_FEBRUARY = datetime(2026, 2, 10, 9, 0)


def _increase(package_id: str):
    return ("AdminPackagePriceIncreaseFunction", "POST", f"/api/admin/packages/{package_id}/price-increase")


def _counts(conn):
    return conn.execute(
        "select (select count(*) from notifications) as notices,"
        " (select count(*) from service_action_log where action = 'price_change') as changes,"
        " (select count(*) from package_prices) as prices"
    ).fetchone()


def test_each_subscriber_gets_a_notice_and_the_new_price_from_the_date_except_a_negotiated_one(conn):
    # Given a R699 package with: a customer with two services on it, a second customer, one with a
    # negotiated R599, and a cancelled service
    _, token = admin_with_token(conn, role="billing_admin")
    package = insert_package(conn, price="699.00", name="Fibre 50")
    on_package = {"package_id": package, "price": "699.00"}
    first, first_services = billed_customer(conn, services=[on_package, on_package])
    second, [second_service] = billed_customer(conn, services=[on_package])
    _, [negotiated] = billed_customer(
        conn, services=[{**on_package, "price": "599.00", "price_override_reason": "Loyalty deal"}]
    )
    billed_customer(conn, services=[{**on_package, "status": "cancelled", "cancellation_date": "2026-01-31"}])
    run_billing(date(2026, 1, 25))
    with clock.moved_to(TENTH_FEBRUARY):
        # When on 10 February the package goes to R799 from 25 March (more than 30 days ahead)
        body = {"monthly_price": "799.00", "effective_date": "2026-03-25", "reason": "Wholesale costs rose"}
        status, _, result = call_api(*_increase(package), token=token, body=body)
    # Then the three list-price services change on that date and the negotiated one is listed, unchanged
    assert status == 200, result
    assert sorted(row["service_id"] for row in result["changed"]) == sorted([*first_services, second_service])
    assert [row["service_id"] for row in result["left_alone"]] == [negotiated]
    # And each affected customer has exactly one notice in the outbox, queued now
    notices = conn.execute(
        "select customer_id::text as c, template, data from notifications where kind = 'price_increase'"
        " order by customer_id"
    ).fetchall()
    assert sorted(n["c"] for n in notices) == sorted([first, second]) and result["notices_queued"] == 2
    assert {n["template"] for n in notices} == {"price_increase"}
    assert (
        notices[0]["data"]["new_price"] == "799.00" and notices[0]["data"]["effective_date"] == "2026-03-25"
    )
    # And every change is a price_change audit row of the single-change rule, from the date
    rows = conn.execute(
        "select service_id::text as s, details from service_action_log where action = 'price_change'"
    ).fetchall()
    assert sorted(r["s"] for r in rows) == sorted(row["service_id"] for row in result["changed"])
    assert {(r["details"]["effective_date"], r["details"]["new_price"]) for r in rows} == {
        ("2026-03-25", "799.00")
    }
    # And the billing run bills R699 for the period before the date and R799 from it
    run_billing(date(2026, 2, 25))
    run_billing(date(2026, 3, 25))
    february, march = invoices_of(conn, second)[-2:]
    assert ("recurring", "699.00") in lines_of(conn, february["id"])
    assert ("recurring", "799.00") in lines_of(conn, march["id"])


def test_too_short_a_notice_is_refused_and_writes_nothing(conn):
    # Given a package with a subscriber
    _, token = admin_with_token(conn, role="billing_admin")
    package = insert_package(conn, price="699.00")
    billed_customer(conn, services=[{"package_id": package}])
    before = _counts(conn)
    with clock.moved_to(TENTH_FEBRUARY):
        # When the new price would start in 29 days
        body = {"monthly_price": "799.00", "effective_date": "2026-03-11", "reason": "Costs"}
        status, _, problem = call_api(*_increase(package), token=token, body=body)
    # Then it is refused naming the earliest date, and nothing is written
    assert status == 422 and problem["field"] == "effective_date" and problem["earliest"] == "2026-03-12"
    assert _counts(conn) == before


def test_a_repeat_of_the_same_increase_is_refused_and_support_may_not_raise_prices(conn):
    _, token = admin_with_token(conn, role="super_admin")
    _, support = admin_with_token(conn, role="support")
    package = insert_package(conn, price="699.00")
    billed_customer(conn, services=[{"package_id": package}])
    body = {"monthly_price": "799.00", "effective_date": "2026-04-01", "reason": "Costs"}
    with clock.moved_to(TENTH_FEBRUARY):
        assert call_api(*_increase(package), token=support, body=body)[0] == 403
        assert call_api(*_increase(package), token=token, body=body)[0] == 200
        after_first = _counts(conn)
        # When the same increase is sent again (no Idempotency-Key)
        status, _, problem = call_api(*_increase(package), token=token, body=body)
    # Then it is a conflict and no second notice, audit row or price row exists
    assert status == 409, problem
    assert _counts(conn) == after_first
