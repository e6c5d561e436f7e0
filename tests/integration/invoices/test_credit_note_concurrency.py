"""Two credit notes on one invoice at the same moment, on two real connections: the invoice's row lock
serialises them and the second is checked against what the first left, so the notes never exceed it."""

from __future__ import annotations

import asyncio
import threading
import uuid
from decimal import Decimal

import pytest
from pydantic import TypeAdapter

from isp_billing import db
from isp_billing.auth import AdminPrincipal
from isp_billing.invoices import credit_notes
from isp_billing.invoices.models import CreditNoteRequest
from tests.concurrency import wait_until_a_session_waits_for_a_lock
from tests.events import call_api
from tests.factories import admin_with_token, insert_admin, insert_customer
from tests.invoice_helpers import insert_invoice


def _principal(conn) -> AdminPrincipal:
    admin_id, auth_id = insert_admin(conn, role="billing_admin")
    return AdminPrincipal(uuid.UUID(admin_id), uuid.UUID(auth_id), "billing_admin", "a@isp.example", "A")


def _admin_a_credits(
    admin: AdminPrincipal, invoice_id: str, amount: str, gate: threading.Event, out: dict
) -> None:
    connection = db.connect()  # admin A's own connection (B uses the function's)
    try:
        with connection.transaction():
            connection.execute("select set_config('role', 'service_role', true)")
            out["result"] = credit_notes.issue(
                connection,
                admin,
                uuid.UUID(invoice_id),
                TypeAdapter(CreditNoteRequest).validate_python(
                    {"mode": "amount", "amount": amount, "reason": "A: outage"}
                ),
                "req-admin-a",
            )
            out["issued"] = True
            assert gate.wait(15), "the test never opened the gate"  # A's transaction stays open, locked
    except Exception as error:  # surfaced by the test's assertions
        out["error"] = error
    finally:
        connection.close()


def _admin_b_credits(invoice_id: str, token: str, amount: str, out: dict) -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())  # as the local gateway does for its worker threads
    out["response"] = call_api(
        "AdminInvoiceCreditNoteFunction",
        "POST",
        f"/api/admin/invoices/{invoice_id}/credit-note",
        token=token,
        body={"mode": "amount", "amount": amount, "reason": "B: goodwill"},
    )


@pytest.mark.parametrize(
    ("b_amount", "b_status", "credited"),
    [("419.40", 409, "419.40"), ("279.60", 201, "699.00")],
    ids=["second-would-exceed", "second-fits-what-is-left"],
)
def test_two_credit_notes_at_once_never_exceed_the_invoice(conn, b_amount, b_status, credited):
    # Given an issued R699.00 invoice, admin A (a direct connection) and admin B (the Lambda function)
    invoice = insert_invoice(conn, insert_customer(conn))
    admin_a = _principal(conn)
    _, token_b = admin_with_token(conn, role="billing_admin")
    gate, a_out, b_out = threading.Event(), {}, {}
    # When A credits R419.40 and holds its transaction open
    thread_a = threading.Thread(target=_admin_a_credits, args=(admin_a, invoice["id"], "419.40", gate, a_out))
    thread_a.start()
    for _ in range(500):
        if a_out:
            break
        threading.Event().wait(0.02)
    assert a_out.get("issued"), a_out
    # And B credits meanwhile: it has to wait for A's lock
    thread_b = threading.Thread(target=_admin_b_credits, args=(invoice["id"], token_b, b_amount, b_out))
    thread_b.start()
    wait_until_a_session_waits_for_a_lock(conn)
    gate.set()
    thread_a.join(20)
    thread_b.join(20)
    # Then A's note stands, and B was checked against what A left
    assert "error" not in a_out, a_out.get("error")
    status, _, body = b_out["response"]
    assert status == b_status, body
    if b_status == 409:
        assert body["remaining_creditable"] == "279.60"
    row = conn.execute(
        "select amount_credited, amount_due, (select -sum(total_amount) from customer_invoices n"
        " where n.credit_note_for = i.id) as notes from customer_invoices i where id = %s",
        (invoice["id"],),
    ).fetchone()
    assert row["amount_credited"] == Decimal(credited) and row["notes"] == Decimal(credited)
    assert row["amount_due"] == Decimal("699.00") - Decimal(credited)
    numbers = conn.execute(
        "select invoice_number from customer_invoices where kind = 'credit_note' order by invoice_number"
    ).fetchall()
    assert len(numbers) == (2 if b_status == 201 else 1)
    assert [n["invoice_number"][-5:] for n in numbers] == ["00001", "00002"][: len(numbers)]
