"""Manual payments on invoices (EFT, cash), and the payment lists of customers and admins."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest

from isp_billing.clock import sast_today
from tests.collections_helpers import invoice_row, issued_invoice
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token

CREATE = "AdminInvoicePaymentCreateFunction"


def _pay(token: str, invoice: str, value: str, **extra: object) -> tuple[int, dict]:
    body = {"method": "eft", "amount": value, "payment_date": str(sast_today()), "bank_reference": "INV ref"}
    status, _, payload = call_api(
        CREATE, "POST", f"/api/admin/invoices/{invoice}/payments", token=token, body={**body, **extra}
    )
    return status, payload


def _credit(conn: psycopg.Connection, customer: str) -> Decimal:
    row = conn.execute("select credit_balance from customer_billing where customer_id = %s", (customer,))
    return row.fetchone()["credit_balance"]


def test_partial_then_overpayment(conn: psycopg.Connection) -> None:
    # Given an issued R699.00 invoice and a billing admin
    customer, _ = customer_with_token(conn)
    invoice = issued_invoice(conn, customer, invoice_date=sast_today() - timedelta(days=3))
    _, token = admin_with_token(conn, role="billing_admin")
    # When R300.00 arrives by EFT
    status, first = _pay(token, invoice, "300.00")
    # Then it is applied in part: partially_paid, R399.00 still due, no credit
    assert status == 201, first
    assert (first["applied"], first["credited"], first["invoice_status"], first["invoice_amount_due"]) == (
        "300.00",
        "0.00",
        "partially_paid",
        "399.00",
    )
    # When R500.00 more arrives in cash
    status, second = _pay(token, invoice, "500.00", method="cash", bank_reference=None)
    # Then R399.00 settles the invoice (paid, paid_at) and R101.00 becomes credit
    assert status == 201, second
    assert (second["applied"], second["credited"], second["invoice_status"]) == ("399.00", "101.00", "paid")
    row = invoice_row(conn, invoice)
    assert row["status"] == "paid" and row["paid_at"] is not None and row["amount_paid"] == Decimal("699.00")
    assert _credit(conn, customer) == Decimal("101.00")
    providers = conn.execute(
        "select provider, kind, status from payment_transactions where invoice_id = %s order by created_at",
        (invoice,),
    ).fetchall()
    assert [(p["provider"], p["kind"], p["status"]) for p in providers] == [
        ("eft", "payment", "successful"),
        ("manual", "payment", "successful"),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"amount": 300}, 422),
        ({"amount": "0.00"}, 422),
        ({"amount": "-5.00"}, 422),
        ({"payment_date": str(date.today() + timedelta(days=3))}, 422),
        ({"bank_reference": None}, 422),
        ({"card_number": "4111111111111111"}, 422),
    ],
)
def test_bad_input_is_a_4xx_and_writes_nothing(conn: psycopg.Connection, body: dict, expected: int) -> None:
    # Given an issued invoice / When a bad payment is posted / Then it is refused and nothing is written
    customer, _ = customer_with_token(conn)
    invoice = issued_invoice(conn, customer, invoice_date=sast_today() - timedelta(days=3))
    _, token = admin_with_token(conn, role="billing_admin")
    status, _ = _pay(token, invoice, "100.00", **body)
    assert status == expected
    assert conn.execute("select count(*) as n from payment_transactions").fetchone()["n"] == 0


def test_roles_and_invoice_states(conn: psycopg.Connection) -> None:
    # Given a support admin, a draft invoice and a missing one
    customer, _ = customer_with_token(conn)
    invoice = issued_invoice(conn, customer, invoice_date=sast_today() - timedelta(days=3))
    _, support = admin_with_token(conn, role="support")
    _, billing = admin_with_token(conn, role="billing_admin")
    conn.execute("update customer_invoices set status = 'void' where id = %s", (invoice,))
    # When each posts / Then 403 for support, 409 for a void invoice, 404 for none
    assert _pay(support, invoice, "10.00")[0] == 403
    assert _pay(billing, invoice, "10.00")[0] == 409
    assert _pay(billing, "00000000-0000-4000-8000-000000000000", "10.00")[0] == 404


def test_customer_sees_only_their_payments_with_reasons(conn: psycopg.Connection) -> None:
    # Given two customers with payments, one a failed debit order
    mine, my_token = customer_with_token(conn)
    other, _ = customer_with_token(conn)
    my_invoice = issued_invoice(conn, mine, invoice_date=sast_today() - timedelta(days=3))
    other_invoice = issued_invoice(conn, other, invoice_date=sast_today() - timedelta(days=3))
    _, admin = admin_with_token(conn, role="billing_admin")
    _pay(admin, my_invoice, "100.00")
    _pay(admin, other_invoice, "100.00")
    conn.execute(
        "insert into payment_transactions (customer_id, invoice_id, amount, kind, status, provider,"
        " action_date, failure_code, failure_reason)"
        " values (%s, %s, 599, 'collection', 'failed', 'netcash', %s, '02',"
        " 'Not provided for (insufficient funds)')",
        (mine, my_invoice, sast_today()),
    )
    # When the customer lists their payments (one per page)
    status, _, page = call_api(
        "CustomerPaymentsListFunction", "GET", "/api/customer/payments", token=my_token, query="limit=1"
    )
    assert status == 200 and page["next_cursor"]
    status, _, rest = call_api(
        "CustomerPaymentsListFunction",
        "GET",
        "/api/customer/payments",
        token=my_token,
        query=f"limit=5&cursor={page['next_cursor']}",
    )
    items = page["items"] + rest["items"]
    # Then only theirs, with method, invoice number, status and the failure in words
    assert len(items) == 2 and rest["next_cursor"] is None
    number = invoice_row(conn, my_invoice)["invoice_number"]
    assert {(i["method"], i["status"], i["invoice_number"]) for i in items} == {
        ("eft", "successful", number),
        ("debit_order", "failed", number),
    }
    failed = next(i for i in items if i["status"] == "failed")
    assert (
        failed["failure_reason"] == "Not provided for (insufficient funds)" and failed["amount"] == "599.00"
    )


def test_admin_filters(conn: psycopg.Connection) -> None:
    # Given payments of two customers, one debit order in a batch
    first, _ = customer_with_token(conn)
    second, _ = customer_with_token(conn)
    invoices = [
        issued_invoice(conn, c, invoice_date=sast_today() - timedelta(days=3)) for c in (first, second)
    ]
    _, admin = admin_with_token(conn, role="billing_admin")
    for invoice in invoices:
        _pay(admin, invoice, "50.00")
    conn.execute(
        "insert into payment_transactions (customer_id, invoice_id, amount, kind, status, provider,"
        " action_date, batch_reference)"
        " values (%s, %s, 649, 'collection', 'submitted', 'netcash', '2026-03-05', 'ISPB-X')",
        (second, invoices[1]),
    )

    def listed(query: str) -> list[dict]:
        status, _, page = call_api(
            "AdminPaymentsListFunction", "GET", "/api/admin/payments", token=admin, query=query
        )
        assert status == 200, page
        return page["items"]

    # When filtered by customer, status, batch and date range / Then each filter narrows as it says
    assert {i["customer_id"] for i in listed(f"customer_id={first}")} == {first}
    assert [i["batch_reference"] for i in listed("status=submitted")] == ["ISPB-X"]
    assert [i["amount"] for i in listed("batch=ISPB-X")] == ["649.00"]
    assert [i["payment_date"] for i in listed("from=2026-03-01&to=2026-03-31")] == ["2026-03-05"]
    assert (
        call_api(
            "AdminPaymentsListFunction",
            "GET",
            "/api/admin/payments",
            token=admin,
            query="from=2026-04-01&to=2026-03-01",
        )[0]
        == 422
    )
