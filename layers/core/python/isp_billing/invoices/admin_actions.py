"""POST /api/admin/invoices/{id}/void and /write-off: the status changes an admin makes on an invoice, each
under the invoice's row lock and recorded in the append-only invoice_action_log (who, when, why,
before/after) in the same transaction."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from isp_billing.auth import AdminPrincipal
from isp_billing.billing.inputs import require_billing_role
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import InvalidState, NotFound
from isp_billing.invoices import actions_sql as invoice_actions
from isp_billing.invoices import sql as invoices
from isp_billing.invoices.models import AdminInvoiceSummary, InvoiceActionRequest
from isp_billing.ledger import postings

WRITABLE_OFF = ("issued", "partially_paid", "overdue")


def void(
    conn: Connection, admin: AdminPrincipal, invoice_id: UUID, request: InvoiceActionRequest, request_id: str
) -> AdminInvoiceSummary:
    """A draft only: an issued invoice is a tax document and is corrected by a credit note instead."""
    require_billing_role(admin)
    invoice = _locked(conn, invoice_id)
    if invoice["status"] != "draft":
        raise InvalidState(
            f"Only a draft can be voided; this invoice is {invoice['status']}. Correct an issued invoice with"
            f" a credit note: POST /api/admin/invoices/{invoice_id}/credit-note.",
            current_status=invoice["status"],
            credit_note_route=f"/api/admin/invoices/{invoice_id}/credit-note",
        )
    return _apply(conn, admin, invoice, "void", {"status": "void"}, request, request_id, {})


def write_off(
    conn: Connection, admin: AdminPrincipal, invoice_id: UUID, request: InvoiceActionRequest, request_id: str
) -> AdminInvoiceSummary:
    """Give up collecting what is still due: a write_off row in the ledger (refused while a debit order is in
    flight: its answer may still pay the invoice)."""
    require_billing_role(admin)
    invoice = _locked(conn, invoice_id)
    if (
        invoice["kind"] == "credit_note"
        or invoice["status"] not in WRITABLE_OFF
        or invoice["amount_due"] <= 0
    ):
        raise InvalidState(
            f"Only an unpaid issued invoice can be written off; this one is {invoice['status']}"
            f" with {invoice['amount_due']:.2f} due.",
            current_status=invoice["status"],
        )
    if invoice_actions.collecting(conn, invoice_id) > 0:
        raise InvalidState(
            "A debit order for this invoice is in flight; wait for the bank's answer before writing it off.",
            current_status=invoice["status"],
            reason="collection_in_flight",
        )
    amount = invoice["amount_due"]
    postings.write_off(
        conn, customer_id=invoice["customer_id"], invoice_id=invoice_id, amount=amount, today=sast_today()
    )
    return _apply(conn, admin, invoice, "write_off", {}, request, request_id, {"amount_written_off": amount})


def _locked(conn: Connection, invoice_id: UUID) -> dict[str, Any]:
    invoice = invoice_actions.lock_invoice(conn, invoice_id)
    if invoice is None:
        raise NotFound("No such invoice.")
    return invoice


def _apply(
    conn: Connection,
    admin: AdminPrincipal,
    invoice: dict[str, Any],
    action: str,
    changes: dict[str, Any],
    request: InvoiceActionRequest,
    request_id: str,
    details: dict[str, Any],
) -> AdminInvoiceSummary:
    after = (
        invoice_actions.update_invoice(conn, invoice["id"], changes)
        if changes
        else _locked(conn, invoice["id"])
    )
    invoice_actions.log_action(
        conn,
        {
            "invoice_id": invoice["id"],
            "customer_id": invoice["customer_id"],
            "action": action,
            "previous_status": invoice["status"],
            "new_status": after["status"],
            "reason": request.reason,
            "actor_admin_id": admin.admin_id,
            "request_id": request_id,
            "previous_data": invoice,
            "new_data": after,
            "details": details,
        },
    )
    row = invoices.get_for_admin(conn, invoice["id"])
    assert row is not None
    return AdminInvoiceSummary.model_validate(row)
