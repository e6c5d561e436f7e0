"""POST /api/admin/invoices/{id}/credit-note: correct an issued invoice with a credit note.

A credit note is an invoice of kind `credit_note` with negative lines (kind `credit`), numbered
CRN-YYYY-NNNNN by the database, its VAT extracted from its total the way the billing run does
(`billing.rules.totals`), at the corrected invoice's rate. In the ledger (ledger.postings.credit_invoice)
the note first gives back to the account what other money (payments, account credit) is allocated to the
invoice beyond what it now owes, then settles what is open; its rest is account credit, which the next run
applies. The invoice row is locked first, so two notes at once queue and the second sees the first: the
notes on one invoice never add up to more than its total. A collection in flight is not money received: if
it later settles on an invoice the note settled, it becomes credit; if it bounces, the invoice stays settled.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing.auth import AdminPrincipal
from isp_billing.billing.inputs import require_billing_role
from isp_billing.billing.rules import totals
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import Conflict, InvalidState, NotFound, ValidationFailed
from isp_billing.invoices import actions_sql as invoice_actions
from isp_billing.invoices import sql as invoices
from isp_billing.invoices.models import CreditNoteRequest, CreditNoteResult, InvoiceSummary
from isp_billing.ledger import postings
from isp_billing.money import format_money, to_cents

ZERO = Decimal("0.00")
CREDITABLE_STATUSES = ("issued", "partially_paid", "paid", "overdue")


def issue(
    conn: Connection, admin: AdminPrincipal, invoice_id: UUID, request: CreditNoteRequest, request_id: str
) -> CreditNoteResult:
    require_billing_role(admin)
    _check_shape(request)
    invoice = invoice_actions.lock_invoice(conn, invoice_id)
    if invoice is None:
        raise NotFound("No such invoice.")
    _check_creditable(invoice)
    lines = _credit_lines(conn, invoice, request)
    amount = sum((-line["amount"] for line in lines), ZERO)
    remaining = invoice["total_amount"] - invoice_actions.credited_so_far(conn, invoice_id)
    if amount <= 0 or amount > remaining:  # full mode on a fully credited invoice: nothing left
        raise Conflict(
            f"The credit ({format_money(amount)}) exceeds what is left to credit on this invoice"
            f" ({format_money(remaining)}).",
            reason="exceeds_invoice",
            remaining_creditable=format_money(remaining),
        )
    subtotal, vat, total = totals((line["amount"] for line in lines), invoice["vat_rate"])
    note = invoice_actions.insert_credit_note(
        conn,
        {
            "customer_id": invoice["customer_id"],
            "invoice_date": sast_today(),
            "period_start": invoice["period_start"],
            "period_end": invoice["period_end"],
            "subtotal": subtotal,
            "vat_rate": invoice["vat_rate"],
            "vat_amount": vat,
            "total_amount": total,
            "credit_note_for": invoice_id,
        },
        lines,
    )
    posted = postings.credit_invoice(
        conn,
        customer_id=invoice["customer_id"],
        invoice_id=invoice_id,
        credit_note_id=note["id"],
        amount=amount,
        today=sast_today(),
    )
    after = invoice_actions.lock_invoice(conn, invoice_id)
    assert after is not None
    invoice_actions.log_action(
        conn,
        {
            "invoice_id": invoice_id,
            "customer_id": invoice["customer_id"],
            "action": "credit_note",
            "previous_status": invoice["status"],
            "new_status": after["status"],
            "reason": request.reason,
            "actor_admin_id": admin.admin_id,
            "request_id": request_id,
            "previous_data": invoice,
            "new_data": after,
            "details": {
                "credit_note_id": note["id"],
                "credit_note_number": note["invoice_number"],
                "mode": request.mode,
                "amount": amount,
                "applied_to_invoice": posted.applied,
                "given_back_to_account": posted.given_back,
                "added_to_credit_balance": posted.to_credit,
            },
        },
    )
    return CreditNoteResult(
        credit_note=_summary(conn, note["id"]),
        invoice=_summary(conn, invoice_id),
        applied_to_invoice=posted.applied,
        added_to_credit_balance=posted.to_credit,
    )


def _check_shape(request: CreditNoteRequest) -> None:
    """The body's fields must fit its mode (a 422 before anything is read or locked)."""
    if request.mode == "lines" and not request.lines:
        raise ValidationFailed("lines: required when mode is 'lines'", field="lines")
    if request.mode == "amount" and request.amount is None:
        raise ValidationFailed("amount: required when mode is 'amount'", field="amount")
    if request.mode != "lines" and request.lines is not None:
        raise ValidationFailed("lines: only with mode 'lines'", field="lines")
    if request.mode != "amount" and request.amount is not None:
        raise ValidationFailed("amount: only with mode 'amount'", field="amount")
    if request.amount is not None and request.amount <= 0:
        raise ValidationFailed("amount: must be more than 0.00", field="amount")
    for line in request.lines or []:
        if line.amount is not None and line.amount <= 0:
            raise ValidationFailed("lines.amount: must be more than 0.00", field="lines")
    line_ids = [line.line_id for line in request.lines or []]
    if len(set(line_ids)) != len(line_ids):
        raise ValidationFailed("lines: a line may be given once", field="lines")


def _check_creditable(invoice: dict[str, Any]) -> None:
    if invoice["kind"] == "credit_note":
        raise InvalidState("A credit note cannot itself be credited.", current_status=invoice["status"])
    if invoice["status"] == "draft":
        raise InvalidState(
            "A draft is not issued yet: void it instead (POST /api/admin/invoices/{id}/void).",
            current_status="draft",
        )
    if invoice["status"] not in CREDITABLE_STATUSES:
        raise InvalidState(
            f"A {invoice['status']} invoice cannot be credited.", current_status=invoice["status"]
        )


def _credit_lines(
    conn: Connection, invoice: dict[str, Any], request: CreditNoteRequest
) -> list[dict[str, Any]]:
    """The credit note's lines (negative amounts), each with a source naming what it credits and why."""
    base = {"rule": "credit_note", "invoice_number": invoice["invoice_number"], "reason": request.reason}
    whole = {"service_id": None, "period_start": invoice["period_start"], "period_end": invoice["period_end"]}
    if request.mode == "full":
        remaining = invoice["total_amount"] - invoice_actions.credited_so_far(conn, invoice["id"])
        return [
            {
                **whole,
                "description": f"Credit note for invoice {invoice['invoice_number']}",
                "amount": -remaining,
                "source": {**base, "mode": "full"},
            }
        ]
    if request.mode == "amount":
        assert request.amount is not None
        return [
            {
                **whole,
                "description": f"Credit on invoice {invoice['invoice_number']}",
                "amount": -to_cents(request.amount),
                "source": {**base, "mode": "amount"},
            }
        ]
    by_id = {str(line["id"]): line for line in invoices.lines(conn, invoice["id"])}
    credited = invoice_actions.credited_per_line(conn, invoice["id"])
    result = []
    for wanted in request.lines or []:
        original = by_id.get(str(wanted.line_id))
        if original is None:
            raise ValidationFailed("lines.line_id: not a line of this invoice", field="lines")
        left = original["amount"] - credited.get(str(wanted.line_id), ZERO)
        if original["amount"] <= 0 or left <= 0:
            raise ValidationFailed(
                "lines.line_id: that line has nothing left to credit (a credit, or credited in full)",
                field="lines",
            )
        amount = to_cents(wanted.amount) if wanted.amount is not None else left
        if amount > left:
            raise ValidationFailed(
                f"lines.amount: more than is left to credit on that line ({format_money(left)})",
                field="lines",
            )
        result.append(
            {
                "service_id": original["service_id"],
                "period_start": original["period_start"],
                "period_end": original["period_end"],
                "description": f"Credit: {original['description']}"[:500],
                "amount": -amount,
                "source": {
                    **base,
                    "mode": "lines",
                    "credits_line_id": str(original["id"]),
                    "credited_description": original["description"],
                },
            }
        )
    return result


def _summary(conn: Connection, invoice_id: UUID) -> InvoiceSummary:
    row = invoices.get_for_admin(conn, invoice_id)
    assert row is not None
    return InvoiceSummary.model_validate(row)
