"""POST /api/admin/invoices/{id}/credit-note, /void and /write-off through their handlers: the arithmetic,
the numbering, the states, the roles, bad input, and the action log."""

from __future__ import annotations

from decimal import Decimal

import pytest

from isp_billing.clock import sast_today
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token, insert_customer
from tests.invoice_helpers import insert_invoice, insert_payment, line
from tests.ledger_helpers import receive


def _credit(invoice_id: str, token: str, body: dict):
    return call_api(
        "AdminInvoiceCreditNoteFunction",
        "POST",
        f"/api/admin/invoices/{invoice_id}/credit-note",
        token=token,
        body=body,
    )


def _void(invoice_id: str, token: str, body: dict | None = None):
    return call_api(
        "AdminInvoiceVoidFunction",
        "POST",
        f"/api/admin/invoices/{invoice_id}/void",
        token=token,
        body=body or {"reason": "Raised in error"},
    )


def _write_off(invoice_id: str, token: str, body: dict | None = None):
    return call_api(
        "AdminInvoiceWriteOffFunction",
        "POST",
        f"/api/admin/invoices/{invoice_id}/write-off",
        token=token,
        body=body or {"reason": "Customer emigrated, untraceable"},
    )


def _invoice(conn, invoice_id):
    return conn.execute("select * from customer_invoices where id = %s", (invoice_id,)).fetchone()


def _credit_balance(conn, customer_id) -> Decimal:
    return conn.execute(
        "select credit_balance from customer_billing where customer_id = %s", (customer_id,)
    ).fetchone()["credit_balance"]


def _counts(conn) -> dict[str, int]:
    tables = ("customer_invoices", "invoice_line_items", "invoice_action_log")
    return {t: conn.execute(f"select count(*) as n from {t}").fetchone()["n"] for t in tables}


@pytest.fixture
def billing_admin(conn):
    return admin_with_token(conn, role="billing_admin")[1]


def test_a_full_credit_note_on_an_unpaid_invoice_cancels_what_is_due(conn, billing_admin):
    # Given an issued R699.00 invoice, nothing paid
    customer = insert_customer(conn)
    invoice = insert_invoice(conn, customer)
    # When a billing admin credits it in full
    status, _, body = _credit(invoice["id"], billing_admin, {"mode": "full", "reason": "Billed in error"})
    # Then a CRN credit note mirrors it (negative, same VAT split) and nothing is left to pay
    assert status == 201, body
    note = body["credit_note"]
    assert note["invoice_number"] == f"CRN-{sast_today().year}-00001"
    assert note["kind"] == "credit_note" and note["credit_note_for"] == invoice["id"]
    assert (note["total_amount"], note["vat_amount"], note["subtotal"]) == ("-699.00", "-91.17", "-607.83")
    assert body["invoice"]["amount_due"] == "0.00" and body["invoice"]["amount_credited"] == "699.00"
    assert body["invoice"]["status"] == "paid"
    assert (body["applied_to_invoice"], body["added_to_credit_balance"]) == ("699.00", "0.00")
    assert _credit_balance(conn, customer) == Decimal("0.00")
    lines = conn.execute(
        "select kind, amount, source from invoice_line_items where invoice_id = %s", (note["id"],)
    ).fetchall()
    assert [(row["kind"], f"{row['amount']:.2f}") for row in lines] == [("credit", "-699.00")]
    assert lines[0]["source"]["invoice_number"] == invoice["invoice_number"]


def test_several_partial_notes_by_amount_and_by_line_add_up_and_can_never_exceed_the_invoice(
    conn, billing_admin
):
    # Given an invoice of two lines (R699.00 + R338.23 = R1037.23)
    customer = insert_customer(conn)
    invoice = insert_invoice(conn, customer, lines=[line("699.00"), line("338.23", kind="pro_rata")])
    big, small = invoice["line_ids"]
    # When it is credited R100.00 by amount, then R38.23 of the pro-rata line, then the rest of that line
    first = _credit(
        invoice["id"], billing_admin, {"mode": "amount", "amount": "100.00", "reason": "Goodwill"}
    )
    second = _credit(
        invoice["id"],
        billing_admin,
        {"mode": "lines", "lines": [{"line_id": small, "amount": "38.23"}], "reason": "Late install"},
    )
    third = _credit(
        invoice["id"], billing_admin, {"mode": "lines", "lines": [{"line_id": small}], "reason": "Late"}
    )
    # Then each took off the amount due
    assert [r[0] for r in (first, second, third)] == [201, 201, 201], (first, second, third)
    assert third[2]["credit_note"]["total_amount"] == "-300.00"
    row = _invoice(conn, invoice["id"])
    assert row["amount_credited"] == Decimal("438.23") and row["amount_due"] == Decimal("599.00")
    assert row["status"] == "issued"
    # And the pro-rata line has nothing left, so crediting it again is refused
    again = _credit(
        invoice["id"], billing_admin, {"mode": "lines", "lines": [{"line_id": small}], "reason": "x"}
    )
    assert again[0] == 422, again
    # And more than what is left of the invoice is refused, naming what is left, writing nothing
    before = _counts(conn)
    over = _credit(invoice["id"], billing_admin, {"mode": "amount", "amount": "599.01", "reason": "Too much"})
    assert over[0] == 409 and over[2]["remaining_creditable"] == "599.00", over
    assert _counts(conn) == before
    # And the big line can be credited for exactly what is left; then "full" has nothing left
    last = _credit(
        invoice["id"],
        billing_admin,
        {"mode": "lines", "lines": [{"line_id": big, "amount": "599.00"}], "reason": "y"},
    )
    assert (
        last[0] == 201
        and last[2]["invoice"]["amount_due"] == "0.00"
        and last[2]["invoice"]["status"] == "paid"
    )
    assert _credit(invoice["id"], billing_admin, {"mode": "full", "reason": "z"})[0] == 409
    notes = conn.execute(
        "select coalesce(sum(total_amount), 0) as s from customer_invoices where credit_note_for = %s",
        (invoice["id"],),
    ).fetchone()
    assert notes["s"] == Decimal("-1037.23")


def test_a_note_on_a_paid_invoice_becomes_account_credit(conn, billing_admin):
    # Given an invoice paid in full
    customer = insert_customer(conn)
    invoice = insert_invoice(conn, customer)
    insert_payment(conn, invoice, "699.00")
    # When R200.00 is credited
    status, _, body = _credit(
        invoice["id"], billing_admin, {"mode": "amount", "amount": "200.00", "reason": "Outage"}
    )
    # Then the note settles R200.00 of the invoice, the R200.00 of the payment it no longer needs goes back
    # to the account as credit, and the invoice stays paid
    assert status == 201, body
    assert (body["applied_to_invoice"], body["added_to_credit_balance"]) == ("200.00", "200.00")
    assert body["invoice"]["status"] == "paid" and body["invoice"]["amount_credited"] == "200.00"
    assert body["invoice"]["amount_paid"] == "499.00"
    assert _credit_balance(conn, customer) == Decimal("200.00")


def test_a_note_on_a_part_paid_invoice_splits_between_the_amount_due_and_account_credit(conn, billing_admin):
    # Given R699.00 of which R600.00 is paid
    customer = insert_customer(conn)
    invoice = insert_invoice(conn, customer)
    insert_payment(conn, invoice, "600.00")
    # When R150.00 is credited
    status, _, body = _credit(
        invoice["id"], billing_admin, {"mode": "amount", "amount": "150.00", "reason": "Fault"}
    )
    # Then the note settles R150.00 of the invoice (it now owes R549.00), and the R51.00 paid beyond that
    # is account credit
    assert status == 201, body
    assert (body["applied_to_invoice"], body["added_to_credit_balance"]) == ("150.00", "51.00")
    assert body["invoice"]["status"] == "paid" and body["invoice"]["amount_due"] == "0.00"
    assert _credit_balance(conn, customer) == Decimal("51.00")


def test_credit_note_numbers_are_their_own_gap_free_series_and_a_refused_note_uses_none(conn, billing_admin):
    # Given two invoices
    customer = insert_customer(conn)
    first, second = insert_invoice(conn, customer), insert_invoice(conn, customer)
    # When notes are issued, with a refused one in between
    a = _credit(first["id"], billing_admin, {"mode": "amount", "amount": "10.00", "reason": "a"})
    assert (
        _credit(first["id"], billing_admin, {"mode": "amount", "amount": "9999.00", "reason": "b"})[0] == 409
    )
    b = _credit(second["id"], billing_admin, {"mode": "full", "reason": "c"})
    # Then their numbers follow each other in the CRN series; invoices keep the INV series
    numbers = [a[2]["credit_note"]["invoice_number"], b[2]["credit_note"]["invoice_number"]]
    year = numbers[0].split("-")[1]
    assert numbers == [f"CRN-{year}-00001", f"CRN-{year}-00002"]
    assert first["invoice_number"].startswith("INV-")


@pytest.mark.parametrize(
    "body",
    [
        {"mode": "amount", "amount": 10.5, "reason": "float"},
        {"mode": "amount", "amount": "0.00", "reason": "zero"},
        {"mode": "amount", "amount": "-5.00", "reason": "negative"},
        {"mode": "amount", "reason": "no amount"},
        {"mode": "lines", "reason": "no lines"},
        {"mode": "lines", "lines": [], "reason": "empty lines"},
        {"mode": "full", "amount": "5.00", "reason": "amount with full"},
        {"mode": "full"},
        {"mode": "full", "reason": "   "},
        {"mode": "everything", "reason": "x"},
        {"mode": "full", "reason": "x", "extra": 1},
        {
            "mode": "lines",
            "lines": [{"line_id": "00000000-0000-4000-8000-000000000000"}],
            "reason": "not its line",
        },
    ],
)
def test_bad_credit_note_input_is_422_and_writes_nothing(conn, billing_admin, body):
    customer = insert_customer(conn)
    invoice = insert_invoice(conn, customer)
    before = _counts(conn)
    status, headers, problem = _credit(invoice["id"], billing_admin, body)
    assert status == 422 and headers["content-type"] == "application/problem+json", problem
    assert _counts(conn) == before and _invoice(conn, invoice["id"])["amount_credited"] == 0


@pytest.mark.parametrize("status", ["draft", "void", "written_off"])
def test_only_an_issued_invoice_can_be_credited(conn, billing_admin, status):
    customer = insert_customer(conn)
    invoice = insert_invoice(conn, customer, status="draft")
    if status == "void":
        conn.execute("update customer_invoices set status = 'void' where id = %s", (invoice["id"],))
    if status == "written_off":
        conn.execute("update customer_invoices set status = 'issued' where id = %s", (invoice["id"],))
        assert _write_off(invoice["id"], billing_admin)[0] == 200
    answer = _credit(invoice["id"], billing_admin, {"mode": "full", "reason": "x"})
    assert answer[0] == 409 and answer[2]["current_status"] == status, answer


def test_a_credit_note_cannot_itself_be_credited(conn, billing_admin):
    invoice = insert_invoice(conn, insert_customer(conn))
    note = _credit(invoice["id"], billing_admin, {"mode": "amount", "amount": "10.00", "reason": "x"})[2][
        "credit_note"
    ]
    assert _credit(note["id"], billing_admin, {"mode": "full", "reason": "y"})[0] == 409


@pytest.mark.parametrize("action", ["credit", "void", "write_off"])
def test_support_admins_and_customers_may_not_correct_invoices(conn, action):
    # Given a draft and an issued invoice, a support admin and a customer
    customer, customer_token = customer_with_token(conn)
    invoice = insert_invoice(conn, customer, status="draft" if action == "void" else "issued")
    _, support = admin_with_token(conn, role="support")
    before = _counts(conn)
    call = {
        "credit": lambda token: _credit(invoice["id"], token, {"mode": "full", "reason": "x"}),
        "void": lambda token: _void(invoice["id"], token),
        "write_off": lambda token: _write_off(invoice["id"], token),
    }[action]
    # When each tries / Then 403, nothing written
    assert call(support)[0] == 403
    assert call(customer_token)[0] == 403
    assert _counts(conn) == before


def test_void_withdraws_a_draft_and_logs_it(conn):
    # Given a draft invoice
    admin_id, token = admin_with_token(conn, role="super_admin")
    customer = insert_customer(conn)
    draft = insert_invoice(conn, customer, status="draft")
    # When it is voided
    status, _, body = _void(draft["id"], token, {"reason": "Duplicate draft"})
    # Then it is void and the log says who, why, before and after
    assert status == 200 and body["status"] == "void", body
    [entry] = conn.execute(
        "select * from invoice_action_log where invoice_id = %s", (draft["id"],)
    ).fetchall()
    assert (entry["action"], entry["previous_status"], entry["new_status"]) == ("void", "draft", "void")
    assert str(entry["actor_admin_id"]) == admin_id and entry["reason"] == "Duplicate draft"
    assert entry["previous_data"]["status"] == "draft" and entry["new_data"]["status"] == "void"
    assert entry["request_id"]


def test_voiding_an_issued_invoice_is_409_naming_the_credit_note_route(conn, billing_admin):
    invoice = insert_invoice(conn, insert_customer(conn))
    status, _, body = _void(invoice["id"], billing_admin)
    assert status == 409 and body["current_status"] == "issued"
    assert body["credit_note_route"] == f"/api/admin/invoices/{invoice['id']}/credit-note"
    assert "credit-note" in body["detail"]
    assert _invoice(conn, invoice["id"])["status"] == "issued"


def test_write_off_records_the_amount_still_due(conn, billing_admin):
    # Given R699.00 of which R200.00 paid
    invoice = insert_invoice(conn, insert_customer(conn))
    insert_payment(conn, invoice, "200.00")
    # When it is written off
    status, _, body = _write_off(invoice["id"], billing_admin)
    # Then it is written_off with R499.00 recorded, and logged
    assert status == 200, body
    assert body["status"] == "written_off" and body["amount_written_off"] == "499.00"
    entry = conn.execute(
        "select * from invoice_action_log where invoice_id = %s", (invoice["id"],)
    ).fetchone()
    assert entry["action"] == "write_off" and entry["details"] == {"amount_written_off": "499.00"}
    # And a second write-off, or one of a paid invoice, is 409
    assert _write_off(invoice["id"], billing_admin)[0] == 409
    paid = insert_invoice(conn, insert_customer(conn))
    insert_payment(conn, paid, "699.00")
    assert _write_off(paid["id"], billing_admin)[0] == 409


@pytest.mark.parametrize("call", [_void, _write_off])
def test_void_and_write_off_need_a_reason_and_an_existing_invoice(conn, billing_admin, call):
    invoice = insert_invoice(conn, insert_customer(conn))
    assert call(invoice["id"], billing_admin, {"reason": ""})[0] == 422
    assert call(invoice["id"], billing_admin, {"note": "x"})[0] == 422
    assert call("00000000-0000-4000-8000-000000000000", billing_admin)[0] == 404
    assert conn.execute("select count(*) as n from invoice_action_log").fetchone()["n"] == 0


def test_a_note_while_a_debit_order_is_in_flight_settles_the_invoice_and_the_debit_becomes_credit(
    conn, billing_admin
):
    # Given an unpaid invoice whose debit order for the full amount was submitted to NetCash
    customer = insert_customer(conn)
    invoice = insert_invoice(conn, customer)
    collection = insert_payment(conn, invoice, "699.00", status="submitted")
    # When R100.00 is credited
    status, _, body = _credit(
        invoice["id"], billing_admin, {"mode": "amount", "amount": "100.00", "reason": "Fault"}
    )
    # Then the note lowers what is due now (a collection in flight is not money received)
    assert status == 201, body
    assert (body["applied_to_invoice"], body["added_to_credit_balance"]) == ("100.00", "0.00")
    assert body["invoice"]["amount_due"] == "599.00"
    assert _credit_balance(conn, customer) == Decimal("0.00")
    # And when the collection settles for R699.00, R599.00 pays the invoice and R100.00 is credit
    conn.execute("update payment_transactions set status = 'successful' where id = %s", (collection,))
    receive(conn, invoice, collection, "699.00")
    row = _invoice(conn, invoice["id"])
    assert (row["status"], row["amount_paid"], row["amount_credited"]) == ("paid", 599, 100)
    assert _credit_balance(conn, customer) == Decimal("100.00")
