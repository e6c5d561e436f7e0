"""Admin billing endpoints: the preview (the run's path, writes nothing), price changes, once-off charges."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from isp_billing import clock
from tests.billing_helpers import billed_customer, invoices_of, lines_of, run_billing, table_counts
from tests.environment import settings_environment
from tests.events import call_api
from tests.factories import admin_with_token, insert_package

PREVIEW = ("AdminBillingPreviewFunction", "POST", "/api/admin/billing/preview")


def _change_price(service_id: str):
    return ("AdminServiceChangePriceFunction", "POST", f"/api/admin/services/{service_id}/change-price")


def _charges(customer_id: str, method: str = "POST"):
    function = (
        "AdminCustomerChargesCreateFunction" if method == "POST" else "AdminCustomerChargesListFunction"
    )
    return (function, method, f"/api/admin/customers/{customer_id}/charges")


def _cancel(customer_id: str, charge_id: str):
    return (
        "AdminCustomerChargeCancelFunction",
        "POST",
        f"/api/admin/customers/{customer_id}/charges/{charge_id}/cancel",
    )


def test_the_preview_writes_nothing_and_equals_what_the_run_then_writes(conn):
    # Given customers due on 25 February: one with the worked example, one with credit and a charge
    _, token = admin_with_token(conn, role="billing_admin")
    first, _ = billed_customer(conn, services=[{"activation_date": "2026-02-10"}])
    second, _ = billed_customer(conn, credit="20.00")
    conn.execute(
        "insert into customer_charges (customer_id, kind, description, amount, due_date)"
        " values (%s, 'installation', 'Installation', 1500.00, '2026-02-20')",
        (second,),
    )
    before = table_counts(conn)
    # When the preview for 25 February is asked for
    status, _, body = call_api(*PREVIEW, token=token, body={"run_date": "2026-02-25"})
    # Then it answers the invoices with their lines and sources, and no row was written
    assert status == 200, body
    assert table_counts(conn) == before
    assert conn.execute("select count(*) as n from cron_execution_log").fetchone()["n"] == 0
    previewed = {row["customer_id"]: row for row in body["invoices"]}
    assert previewed[first]["total_amount"] == "1037.23"
    assert all(line["source"]["rule"] for row in body["invoices"] for line in row["lines"])
    # When the run then bills that date
    run_billing(date(2026, 2, 25))
    # Then it wrote exactly what the preview showed
    for customer in (first, second):
        [invoice] = invoices_of(conn, customer)
        shown = previewed[customer]
        assert f"{invoice['total_amount']:.2f}" == shown["total_amount"]
        assert f"{invoice['vat_amount']:.2f}" == shown["vat_amount"]
        assert sorted(lines_of(conn, invoice["id"])) == sorted(
            (ln["kind"], ln["amount"]) for ln in shown["lines"]
        )
        written = conn.execute(
            "select source from invoice_line_items where invoice_id = %s order by line_key", (invoice["id"],)
        ).fetchall()
        assert sorted(json.dumps(r["source"], sort_keys=True) for r in written) == sorted(
            json.dumps(line["source"], sort_keys=True) for line in shown["lines"]
        )


def test_the_preview_of_one_customer_and_its_roles(conn):
    _, billing = admin_with_token(conn, role="billing_admin")
    _, support = admin_with_token(conn, role="support")
    mine, _ = billed_customer(conn)
    billed_customer(conn)
    status, _, body = call_api(*PREVIEW, token=billing, body={"run_date": "2026-02-25", "customer_id": mine})
    assert status == 200 and [row["customer_id"] for row in body["invoices"]] == [mine]
    assert call_api(*PREVIEW, token=support, body={"run_date": "2026-02-25"})[0] == 403
    assert call_api(*PREVIEW, token=billing, body={"run_date": "2026-02-25", "x": 1})[0] == 422


def test_a_preview_of_more_customers_than_the_limit_needs_a_customer_id(conn):
    # Given three customers due on 25 February and a preview limit of two
    _, token = admin_with_token(conn, role="billing_admin")
    mine, _ = billed_customer(conn)
    billed_customer(conn)
    billed_customer(conn)
    before = table_counts(conn)
    with settings_environment({"BILLING_PREVIEW_MAX_CUSTOMERS": "2"}):
        # When the whole book is previewed
        status, _, body = call_api(*PREVIEW, token=token, body={"run_date": "2026-02-25"})
        # Then it is refused, naming the limit and the count, and nothing is written
        assert status == 422, body
        assert (body["field"], body["limit"], body["customers"]) == ("customer_id", 2, 3)
        assert "more than 2 customers" in body["detail"] and table_counts(conn) == before
        # And one customer's preview is answered
        status, _, body = call_api(
            *PREVIEW, token=token, body={"run_date": "2026-02-25", "customer_id": mine}
        )
        assert status == 200 and [row["customer_id"] for row in body["invoices"]] == [mine]
    # And at the default limit the whole book is previewed
    status, _, body = call_api(*PREVIEW, token=token, body={"run_date": "2026-02-25"})
    assert status == 200 and len(body["invoices"]) == 3


def test_a_price_change_is_audited_and_the_run_pro_rates_the_difference(conn):
    # Given a R699 service on billing day 25, invoiced for 25 Feb - 24 Mar 2026
    _, token = admin_with_token(conn, role="billing_admin")
    customer, [service] = billed_customer(conn)
    run_billing(date(2026, 2, 25))
    # When on 11 March an admin upgrades it to R899 from 11 March
    with clock.moved_to(datetime(2026, 3, 11, 10, 0)):
        status, _, body = call_api(
            *_change_price(service),
            token=token,
            body={"monthly_price": "899.00", "effective_date": "2026-03-11", "reason": "Upgrade"},
        )
    # Then it is recorded with before/after
    assert status == 200, body
    assert (body["old_price"], body["new_price"]) == ("699.00", "899.00")
    audit = conn.execute("select * from service_action_log where action = 'price_change'").fetchone()
    assert audit["details"]["old_price"] == "699.00" and audit["new_data"]["monthly_price"] == "899.00"
    # And the next invoice carries (899 - 699) x 14 / 28 = 100.00 and the new price
    run_billing(date(2026, 3, 25))
    invoice = invoices_of(conn, customer)[-1]
    assert lines_of(conn, invoice["id"]) == [("recurring", "899.00"), ("adjustment", "100.00")]


def test_a_price_change_before_the_current_period_or_as_a_float_is_422(conn):
    _, token = admin_with_token(conn, role="billing_admin")
    _, [service] = billed_customer(conn)
    package = insert_package(conn, price="999.00")
    with clock.moved_to(datetime(2026, 3, 11, 10, 0)):
        early = call_api(
            *_change_price(service),
            token=token,
            body={"monthly_price": "899.00", "effective_date": "2026-02-24", "reason": "x"},
        )
        float_price = call_api(
            *_change_price(service),
            token=token,
            body={"monthly_price": 899.0, "effective_date": "2026-03-11", "reason": "x"},
        )
        by_package = call_api(
            *_change_price(service),
            token=token,
            body={"package_id": package, "effective_date": "2026-03-12", "reason": "Upgrade"},
        )
    assert early[0] == 422 and float_price[0] == 422
    assert by_package[0] == 200 and by_package[2]["new_price"] == "999.00"
    assert by_package[2]["package_id"] == package
    _, support = admin_with_token(conn, role="support")
    assert (
        call_api(
            *_change_price(service),
            token=support,
            body={"monthly_price": "1.00", "effective_date": "2026-12-31", "reason": "x"},
        )[0]
        == 403
    )


def test_a_once_off_charge_is_invoiced_once_on_or_after_its_due_date(conn):
    # Given a customer and an installation charge due 1 March
    _, token = admin_with_token(conn, role="billing_admin")
    customer, _ = billed_customer(conn, billing_day=5)
    status, _, charge = call_api(
        *_charges(customer),
        token=token,
        body={
            "kind": "installation",
            "description": "Installation",
            "amount": "1500.00",
            "due_date": "2026-03-01",
        },
    )
    assert status == 201 and charge["status"] == "pending" and charge["amount"] == "1500.00"
    # When 5 March and 5 April are billed
    run_billing(date(2026, 3, 5))
    run_billing(date(2026, 4, 5))
    # Then the March invoice carries it, the April one does not, and the list shows it invoiced
    march, april = invoices_of(conn, customer)
    assert ("installation", "1500.00") in lines_of(conn, march["id"])
    assert ("installation", "1500.00") not in lines_of(conn, april["id"])
    status, _, listed = call_api(*_charges(customer, "GET"), token=token)
    assert status == 200 and listed[0]["status"] == "invoiced"
    assert listed[0]["invoice_number"] == march["invoice_number"]
    # And an invoiced charge cannot be cancelled
    assert call_api(*_cancel(customer, charge["id"]), token=token)[0] == 409


def test_a_pending_charge_can_be_cancelled_and_is_then_never_invoiced(conn):
    _, token = admin_with_token(conn, role="billing_admin")
    customer, _ = billed_customer(conn, billing_day=5)
    _, _, charge = call_api(
        *_charges(customer),
        token=token,
        body={"kind": "equipment", "description": "Router", "amount": "999.00", "due_date": "2026-03-01"},
    )
    status, _, cancelled = call_api(*_cancel(customer, charge["id"]), token=token)
    assert status == 200 and cancelled["status"] == "cancelled"
    run_billing(date(2026, 3, 5))
    [invoice] = invoices_of(conn, customer)
    assert lines_of(conn, invoice["id"]) == [("recurring", "699.00")]


def test_bad_charges_are_422_and_write_nothing(conn):
    _, token = admin_with_token(conn, role="billing_admin")
    customer, _ = billed_customer(conn)
    bodies = [
        {"kind": "installation", "description": "x", "amount": 1500, "due_date": "2026-03-01"},
        {"kind": "installation", "description": "x", "amount": "-1.00", "due_date": "2026-03-01"},
        {"kind": "adjustment", "description": "x", "amount": "0.00", "due_date": "2026-03-01"},
        {"kind": "gift", "description": "x", "amount": "1.00", "due_date": "2026-03-01"},
        {"kind": "equipment", "description": "bad\u0000text", "amount": "1.00", "due_date": "2026-03-01"},
        {"kind": "equipment", "description": "", "amount": "1.00", "due_date": "2026-03-01"},
    ]
    for body in bodies:
        assert call_api(*_charges(customer), token=token, body=body)[0] == 422, body
    assert conn.execute("select count(*) as n from customer_charges").fetchone()["n"] == 0
    negative = {"kind": "adjustment", "description": "Goodwill", "amount": "-50.00", "due_date": "2026-03-01"}
    status, _, body = call_api(*_charges(customer), token=token, body=negative)
    assert status == 201 and body["amount"] == "-50.00"
    assert Decimal(body["amount"]) == Decimal("-50.00")
