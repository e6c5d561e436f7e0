"""GET /api/customer/invoices(/{id}) and /api/admin/invoices(/{id}) through their Lambda handlers."""

from __future__ import annotations

import uuid

import pytest

from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token, insert_customer
from tests.invoice_helpers import insert_invoice, insert_payment, line

CUSTOMER_LIST = ("CustomerInvoicesListFunction", "GET", "/api/customer/invoices")
ADMIN_LIST = ("AdminInvoicesListFunction", "GET", "/api/admin/invoices")


def _customer_get(invoice_id: str):
    return ("CustomerInvoiceGetFunction", "GET", f"/api/customer/invoices/{invoice_id}")


def _admin_get(invoice_id: str):
    return ("AdminInvoiceGetFunction", "GET", f"/api/admin/invoices/{invoice_id}")


PRO_RATA_SOURCE = {
    "rule": "activation_pro_rata",
    "period": {"start": "2026-01-25", "end": "2026-02-24"},
    "days_in_period": 31,
    "segments": [
        {
            "from": "2026-02-10",
            "to": "2026-02-24",
            "billable_days": 15,
            "monthly_price": "699.00",
            "amount": "338.23",
        }
    ],
    "monthly_price": "699.00",
    "formula": "round_half_up(monthly_price x billable_days / days_in_period)",
}


def test_a_customer_lists_their_invoices_newest_first_without_drafts_void_or_anyone_elses(conn):
    # Given my invoices in every status, and another customer's
    me, token = customer_with_token(conn)
    other = insert_customer(conn)
    older = insert_invoice(conn, me, invoice_date="2026-01-25", due_date="2026-02-01")
    newer = insert_invoice(conn, me, invoice_date="2026-02-25", pdf_generated_at="2026-02-25 03:00+02")
    insert_invoice(conn, me, status="draft", invoice_date="2026-03-01", due_date="2026-03-08")
    insert_invoice(conn, me, status="void", invoice_date="2026-03-02", due_date="2026-03-09")
    insert_invoice(conn, other)
    # When I list my invoices
    status, _, body = call_api(*CUSTOMER_LIST, token=token)
    # Then only my issued ones come back, newest first, money as strings, PDF state shown
    assert status == 200, body
    assert [item["id"] for item in body["items"]] == [newer["id"], older["id"]]
    first = body["items"][0]
    assert (
        first["total_amount"] == "699.00" and first["vat_amount"] == "91.17" and first["subtotal"] == "607.83"
    )
    assert (
        first["amount_due"] == "699.00"
        and first["amount_paid"] == "0.00"
        and first["amount_credited"] == "0.00"
    )
    assert first["invoice_number"].startswith("INV-2026-") and first["status"] == "issued"
    assert first["pdf_ready"] is True and body["items"][1]["pdf_ready"] is False
    assert first["period_start"] == "2026-02-25" and first["due_date"] == "2026-03-04"
    assert body["next_cursor"] is None


def test_the_customer_list_pages_by_cursor_and_filters_by_status(conn):
    # Given three invoices, one of them paid
    me, token = customer_with_token(conn)
    invoices = [
        insert_invoice(conn, me, invoice_date=f"2026-0{month}-25", due_date=f"2026-0{month + 1}-01")
        for month in (1, 2, 3)
    ]
    insert_payment(conn, invoices[0], "699.00")
    # When I page two at a time
    status, _, page_one = call_api(*CUSTOMER_LIST, token=token, query="limit=2")
    _, _, page_two = call_api(*CUSTOMER_LIST, token=token, query=f"limit=2&cursor={page_one['next_cursor']}")
    # Then every invoice comes once, newest first
    assert status == 200
    ids = [item["id"] for item in page_one["items"] + page_two["items"]]
    assert ids == [invoices[2]["id"], invoices[1]["id"], invoices[0]["id"]]
    assert page_two["next_cursor"] is None
    # And the status filter keeps only the paid one
    _, _, paid = call_api(*CUSTOMER_LIST, token=token, query="status=paid")
    assert [item["id"] for item in paid["items"]] == [invoices[0]["id"]]
    assert paid["items"][0]["amount_due"] == "0.00"


@pytest.mark.parametrize("query", ["status=draft", "status=void", "status=bogus", "limit=0", "cursor=%00"])
def test_bad_list_parameters_are_422(conn, query):
    _, token = customer_with_token(conn)
    status, headers, body = call_api(*CUSTOMER_LIST, token=token, query=query)
    assert status == 422 and headers["content-type"] == "application/problem+json", body


def test_a_customer_reads_an_invoice_with_lines_reasons_and_payments(conn):
    # Given my invoice with a pro-rata line and a recurring line, part-paid
    me, token = customer_with_token(conn)
    invoice = insert_invoice(
        conn,
        me,
        lines=[
            line(
                "338.23",
                kind="pro_rata",
                description="Fibre, 10 Feb 2026 to 24 Feb 2026 (pro-rata)",
                period_start="2026-02-10",
                period_end="2026-02-24",
                source=PRO_RATA_SOURCE,
            ),
            line("699.00", source={"rule": "recurring", "monthly_price": "699.00", "days_in_period": 28}),
        ],
    )
    insert_payment(conn, invoice, "500.00")
    # When I read it
    status, _, body = call_api(*_customer_get(invoice["id"]), token=token)
    # Then its lines carry reasons in words, and the payment is listed
    assert status == 200, body
    assert (
        body["total_amount"] == "1037.23"
        and body["amount_paid"] == "500.00"
        and body["amount_due"] == "537.23"
    )
    assert body["status"] == "partially_paid"
    reasons = [item["reason"] for item in body["lines"]]
    assert "Pro-rata 10\u201324 Feb 2026: 15 of 31 days of R699.00" in reasons
    assert "Monthly charge for 25 Feb\u201324 Mar 2026: R699.00" in reasons
    assert "source" not in body["lines"][0]  # the customer gets the words, not the internals
    assert body["payments"] == [
        {
            "id": body["payments"][0]["id"],
            "date": "2026-02-27",
            "amount": "500.00",
            "kind": "collection",
            "method": "eft",
            "status": "successful",
        }
    ]


@pytest.mark.parametrize("whose", ["another customer's", "a draft", "a void", "no"])
def test_an_invoice_that_is_not_the_callers_to_see_is_404(conn, whose):
    # Given an invoice the caller may not see (or none at all)
    me, token = customer_with_token(conn)
    invoice_id = {
        "another customer's": lambda: insert_invoice(conn, insert_customer(conn))["id"],
        "a draft": lambda: insert_invoice(conn, me, status="draft")["id"],
        "a void": lambda: insert_invoice(conn, me, status="void")["id"],
        "no": lambda: str(uuid.uuid4()),
    }[whose]()
    # When the caller reads it / Then 404, its existence not disclosed
    status, headers, body = call_api(*_customer_get(invoice_id), token=token)
    assert status == 404 and headers["content-type"] == "application/problem+json", body


def test_a_malformed_invoice_id_is_422(conn):
    _, token = customer_with_token(conn)
    status, _, body = call_api(*_customer_get("not-a-uuid"), token=token)
    assert status == 422 and body["errors"][0]["loc"] == ["path", "invoice_id"]


def test_an_admin_token_without_a_customer_account_is_403_on_customer_invoices(conn):
    _, admin_token = admin_with_token(conn)
    assert call_api(*CUSTOMER_LIST, token=admin_token)[0] == 403
    assert call_api(*CUSTOMER_LIST)[0] == 401


# --- admin ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["support", "billing_admin", "super_admin"])
def test_any_admin_lists_invoices_with_filters(conn, role):
    # Given two customers' invoices: one overdue, one paid, one draft
    _, token = admin_with_token(conn, role=role)
    first, second = insert_customer(conn), insert_customer(conn)
    overdue = insert_invoice(conn, first, invoice_date="2026-01-25", due_date="2026-02-01")
    paid = insert_invoice(conn, first, invoice_date="2026-02-25")
    insert_payment(conn, paid, "699.00")
    draft = insert_invoice(conn, second, status="draft", invoice_date="2026-03-25", due_date="2026-04-01")

    # When they list with each filter / Then each answers what it says
    def ids(query: str = "") -> list[str]:
        status, _, body = call_api(*ADMIN_LIST, token=token, query=query)
        assert status == 200, body
        return [item["id"] for item in body["items"]]

    assert ids() == [draft["id"], paid["id"], overdue["id"]]
    assert ids(f"customer_id={first}") == [paid["id"], overdue["id"]]
    assert ids("status=draft") == [draft["id"]]
    assert ids("kind=credit_note") == []
    assert ids("date_from=2026-02-01&date_to=2026-02-28") == [paid["id"]]
    assert ids("overdue=true") == [overdue["id"]]


def test_admin_list_bad_filters_are_422_and_customers_are_403(conn):
    _, token = admin_with_token(conn)
    for query in ("status=nope", "kind=nope", "date_from=2026-13-01", "customer_id=x", "overdue=maybe"):
        assert call_api(*ADMIN_LIST, token=token, query=query)[0] == 422, query
    _, customer_token = customer_with_token(conn)
    assert call_api(*ADMIN_LIST, token=customer_token)[0] == 403


def test_an_admin_reads_an_invoice_with_sources_payments_pdf_state_and_history(conn):
    # Given a part-paid invoice whose PDF is ready, credited once by a billing admin
    customer = insert_customer(conn)
    invoice = insert_invoice(
        conn, customer, lines=[line("699.00", source=PRO_RATA_SOURCE)], pdf_generated_at="2026-02-25 03:00+02"
    )
    insert_payment(conn, invoice, "100.00")
    _, billing_token = admin_with_token(conn, role="billing_admin")
    created = call_api(
        "AdminInvoiceCreditNoteFunction",
        "POST",
        f"/api/admin/invoices/{invoice['id']}/credit-note",
        token=billing_token,
        body={"mode": "amount", "amount": "99.00", "reason": "Outage goodwill"},
    )
    assert created[0] == 201, created
    # When a support admin reads it
    _, token = admin_with_token(conn, role="support")
    status, _, body = call_api(*_admin_get(invoice["id"]), token=token)
    # Then everything about it is there
    assert status == 200, body
    assert body["lines"][0]["source"] == PRO_RATA_SOURCE and body["lines"][0]["reason"].startswith("Pro-rata")
    assert [p["amount"] for p in body["payments"]] == ["100.00"]
    assert body["pdf_ready"] is True and body["pdf_url"] and body["pdf_generated_at"]
    assert [n["total_amount"] for n in body["credit_notes"]] == ["-99.00"]
    assert body["amount_credited"] == "99.00" and body["amount_due"] == "500.00"
    [action] = body["actions"]
    assert action["action"] == "credit_note" and action["reason"] == "Outage goodwill"
    assert action["previous_data"]["amount_due"] == "599.00" and action["new_data"]["amount_due"] == "500.00"
    # And an unknown id is 404
    assert call_api(*_admin_get(str(uuid.uuid4())), token=token)[0] == 404
