"""POST /api/admin/payments/{transaction_id}/reverse: a manual payment entered by mistake is undone by a
`reversal` transaction (the reconciliation's reversal), the invoice's status recomputed, the action logged;
only for successful manual/EFT payments, once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from isp_billing.clock import sast_today
from isp_billing.ledger import postings
from tests.collections_helpers import debit_customer, invoice_row, issued_invoice, pay_by_eft
from tests.events import call_api
from tests.factories import admin_with_token, insert_customer

REVERSE = "AdminPaymentReverseFunction"


def _reverse(
    token: str, transaction: str, body: Any = None, key: str | None = None
) -> tuple[int, dict[str, str], Any]:
    return call_api(
        REVERSE,
        "POST",
        f"/api/admin/payments/{transaction}/reverse",
        token=token,
        body={"reason": "Entered on the wrong invoice"} if body is None else body,
        headers={"idempotency-key": key} if key else None,
    )


def _transactions(conn: psycopg.Connection, invoice: str) -> list[dict[str, Any]]:
    return conn.execute(
        "select * from payment_transactions where invoice_id = %s order by created_at, kind", (invoice,)
    ).fetchall()


def _credit(conn: psycopg.Connection, customer: str) -> Decimal:
    row = conn.execute("select credit_balance from customer_billing where customer_id = %s", (customer,))
    return row.fetchone()["credit_balance"]


def test_reversing_an_eft_undoes_it_on_the_invoice_and_logs_it(conn: psycopg.Connection) -> None:
    # Given an invoice due in the future, paid in full by EFT with R51.00 over (credit)
    admin, token = admin_with_token(conn, role="billing_admin")
    customer = insert_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=sast_today())
    status, _, payment = pay_by_eft(conn, invoice, "750.00", token=token)
    assert (
        status == 201 and payment["invoice_status"] == "paid" and _credit(conn, customer) == Decimal("51.00")
    )
    # When a billing admin reverses it with a reason
    status, _, body = _reverse(token, payment["id"])
    # Then a reversal row of the same amount names the original, which is now reversed; the invoice is issued
    # again with everything due and the credit the excess made is gone
    assert status == 201, body
    assert (body["amount"], body["invoice_status"], body["invoice_amount_due"]) == (
        "750.00",
        "issued",
        "699.00",
    )
    original, reversal = _transactions(conn, invoice)
    assert (str(original["id"]), original["status"]) == (payment["id"], "reversed")
    assert (reversal["kind"], reversal["status"], reversal["provider"], reversal["amount"]) == (
        "reversal",
        "successful",
        "eft",
        Decimal("750.00"),
    )
    assert reversal["original_transaction_id"] == original["id"] and str(reversal["recorded_by"]) == admin
    assert reversal["failure_reason"] == "Entered on the wrong invoice"
    row = invoice_row(conn, invoice)
    assert (row["status"], row["amount_paid"], row["paid_at"]) == ("issued", Decimal("0.00"), None)
    assert _credit(conn, customer) == Decimal("0.00")
    # And the invoice's action log has the reversal: who, why, the status before and after
    (entry,) = conn.execute("select * from invoice_action_log where invoice_id = %s", (invoice,)).fetchall()
    assert (entry["action"], entry["previous_status"], entry["new_status"], str(entry["actor_admin_id"])) == (
        "payment_reversal",
        "paid",
        "issued",
        admin,
    )
    assert entry["details"]["transaction_id"] == payment["id"] and entry["details"]["amount"] == "750.00"


def test_a_reversed_partial_payment_past_the_due_date_leaves_the_invoice_overdue(
    conn: psycopg.Connection,
) -> None:
    # Given an invoice due 3 days ago with two EFTs on it
    _, token = admin_with_token(conn, role="billing_admin")
    invoice = issued_invoice(conn, insert_customer(conn), invoice_date=sast_today() - timedelta(days=10))
    first = pay_by_eft(conn, invoice, "200.00", token=token)[2]
    second = pay_by_eft(conn, invoice, "100.00", token=token)[2]
    # When the second is reversed / Then R200.00 is still paid: partially_paid
    assert _reverse(token, second["id"])[2]["invoice_status"] == "partially_paid"
    # When the first is reversed too / Then nothing is paid and the invoice is past its due date: overdue
    status, _, body = _reverse(token, first["id"])
    assert (status, body["invoice_status"], body["invoice_amount_due"]) == (201, "overdue", "699.00")


def test_reversing_an_overpayment_takes_back_what_it_gave_the_invoice_and_the_credit(
    conn: psycopg.Connection,
) -> None:
    # Given R500.00 then R300.00 by EFT on a R699.00 invoice: the second paid R199.00 and made R101.00 credit
    _, token = admin_with_token(conn, role="billing_admin")
    customer = insert_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=sast_today())
    pay_by_eft(conn, invoice, "500.00", token=token)
    second = pay_by_eft(conn, invoice, "300.00", token=token)[2]
    assert (second["applied"], second["credited"]) == ("199.00", "101.00")
    # When the second is reversed
    status, _, body = _reverse(token, second["id"])
    # Then R199.00 comes off the invoice and R101.00 off the credit: back to after the first payment
    assert (status, body["invoice_status"], body["invoice_amount_due"]) == (201, "partially_paid", "199.00")
    assert invoice_row(conn, invoice)["amount_paid"] == Decimal("500.00")
    assert _credit(conn, customer) == Decimal("0.00")


def test_a_reversal_takes_back_the_credit_its_excess_made_even_where_it_was_applied_to_a_later_invoice(
    conn: psycopg.Connection,
) -> None:
    # Given an EFT of R750.00 on a R699.00 invoice (R51.00 credit), and R30.00 of that credit since applied to
    # a later R30.00 invoice, so only R21.00 is left
    _, token = admin_with_token(conn, role="billing_admin")
    customer = insert_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=sast_today())
    payment = pay_by_eft(conn, invoice, "750.00", token=token)[2]
    later = issued_invoice(conn, customer, invoice_date=sast_today(), total="30.00")
    postings.apply_account_credit(conn, [(UUID(later), UUID(customer))], sast_today())  # type: ignore[arg-type]
    assert (invoice_row(conn, later)["status"], _credit(conn, customer)) == ("paid", Decimal("21.00"))
    # When the EFT is reversed
    status, _, body = _reverse(token, payment["id"])
    # Then exactly its allocations are undone: both invoices are due in full again, and nothing is left of it
    # on account (no money is lost or invented, and no separate charge is needed)
    assert (status, body["invoice_status"], body["invoice_amount_due"]) == (201, "issued", "699.00")
    assert (invoice_row(conn, later)["status"], invoice_row(conn, later)["amount_due"]) == (
        "issued",
        Decimal("30.00"),
    )
    assert _credit(conn, customer) == Decimal("0.00")
    assert conn.execute("select count(*) as n from customer_charges").fetchone()["n"] == 0


def test_twice_is_409_and_a_retry_with_the_same_key_replays(conn: psycopg.Connection) -> None:
    # Given an EFT reversed once with an Idempotency-Key
    _, token = admin_with_token(conn, role="billing_admin")
    invoice = issued_invoice(conn, insert_customer(conn), invoice_date=sast_today())
    payment = pay_by_eft(conn, invoice, "699.00", token=token)[2]
    first = _reverse(token, payment["id"], key="rev-1")
    # When the same request is retried, and when it is reversed again under another key
    replay = _reverse(token, payment["id"], key="rev-1")
    again = _reverse(token, payment["id"], key="rev-2")
    # Then the retry replays the first answer, the second reversal is 409 with the current status; one
    # reversal row in all
    assert (first[0], replay[0], replay[1].get("idempotent-replayed")) == (201, 201, "true")
    assert again[0] == 409 and again[2]["current_status"] == "reversed"
    assert [t["kind"] for t in _transactions(conn, invoice)] == ["payment", "reversal"]


def test_only_manual_payments_by_billing_roles_with_a_reason(conn: psycopg.Connection) -> None:
    # Given a debit-order collection that succeeded, an EFT, and admins of each role
    customer, method = debit_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=sast_today())
    collection = conn.execute(
        "insert into payment_transactions (customer_id, invoice_id, payment_method_id, amount, kind, status,"
        " provider, processed_at) values (%s, %s, %s, 699.00, 'collection', 'successful', 'netcash', now())"
        " returning id",
        (customer, invoice, method),
    ).fetchone()["id"]
    other = issued_invoice(conn, customer, invoice_date=sast_today() - timedelta(days=1))
    _, billing = admin_with_token(conn, role="billing_admin")
    payment = pay_by_eft(conn, other, "100.00", token=billing)[2]
    _, support = admin_with_token(conn, role="support")
    _, super_admin = admin_with_token(conn, role="super_admin")
    # When each is asked for / Then: a debit order is 409, support 403, no reason 422, an unknown id 404,
    # and nothing was written by any of them
    assert _reverse(billing, str(collection))[0] == 409
    assert _reverse(support, payment["id"])[0] == 403
    assert _reverse(billing, payment["id"], body={})[0] == 422
    assert _reverse(billing, payment["id"], body={"reason": "   "})[0] == 422
    assert _reverse(billing, "00000000-0000-4000-8000-000000000000")[0] == 404
    assert (
        conn.execute("select count(*) as n from payment_transactions where kind = 'reversal'").fetchone()["n"]
        == 0
    )
    # When a super_admin reverses the EFT / Then it is reversed
    assert _reverse(super_admin, payment["id"])[0] == 201
