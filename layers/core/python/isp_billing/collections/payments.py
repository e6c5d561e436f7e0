"""Manual payments (EFT, cash) on invoices and their reversal, the reversal the reconciliation shares, and the
payment lists customers and admins see."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from isp_billing.auth import AdminPrincipal
from isp_billing.clock import sast_today
from isp_billing.collections import payments_sql as payments
from isp_billing.collections.models import (
    AdminPaymentItem,
    ManualPayment,
    ManualPaymentRequest,
    PaymentItem,
    PaymentReversal,
    PaymentReversalRequest,
)
from isp_billing.db import Connection
from isp_billing.errors import InvalidState, NotFound, ValidationFailed
from isp_billing.invoices import actions_sql as invoice_actions
from isp_billing.ledger import postings
from isp_billing.ledger.models import Receipt
from isp_billing.money import format_money
from isp_billing.pagination import Page, decode_cursor, page_of

Item = TypeVar("Item", bound=PaymentItem)

PAYABLE_STATUSES = {"issued", "partially_paid", "overdue", "paid"}
MANUAL_PROVIDERS = {"manual", "eft"}


def record_manual_payment(
    conn: Connection, admin: AdminPrincipal, invoice_id: UUID, request: ManualPaymentRequest
) -> ManualPayment:
    """An EFT or cash payment: applied up to what the invoice owes, the rest to the credit balance."""
    admin.require("billing_admin", "super_admin")
    if request.amount <= 0:
        raise ValidationFailed("amount: must be greater than zero", field="amount")
    if request.payment_date > sast_today():
        raise ValidationFailed("payment_date: may not be in the future", field="payment_date")
    if request.method == "eft" and not request.bank_reference:
        raise ValidationFailed("bank_reference: is required for an EFT", field="bank_reference")
    invoice = payments.invoice_for_payment(conn, invoice_id)
    if invoice is None:
        raise NotFound("No such invoice.")
    if invoice["kind"] == "credit_note" or invoice["status"] not in PAYABLE_STATUSES:
        raise InvalidState(
            f"The invoice is {invoice['status']}; only an issued invoice can be paid.",
            current_status=invoice["status"],
        )
    payment_id = payments.insert_manual_payment(
        conn,
        invoice=invoice,
        method=request.method,
        amount=request.amount,
        payment_date=request.payment_date,
        bank_reference=request.bank_reference,
        admin_id=admin.admin_id,
    )
    (receipt,) = apply_payments(
        conn,
        [
            {
                "transaction_id": payment_id,
                "customer_id": invoice["customer_id"],
                "invoice_id": invoice_id,
                "amount": request.amount,
                "entry_date": request.payment_date,
            }
        ],
    )
    after = payments.invoice_for_payment(conn, invoice_id)
    assert after is not None
    return ManualPayment(
        id=payment_id,
        invoice_id=invoice_id,
        invoice_number=invoice["invoice_number"],
        customer_id=invoice["customer_id"],
        method=request.method,
        amount=request.amount,
        applied=receipt.applied,
        credited=receipt.to_credit,
        payment_date=request.payment_date,
        invoice_status=after["status"],
        invoice_amount_due=max(after["amount_due"], Decimal("0")),
    )


def apply_payments(conn: Connection, received: list[dict[str, Any]]) -> list[Receipt]:
    """Payments received (transaction_id, customer_id, invoice_id, amount, entry_date) into the ledger: each
    allocated to its invoice up to what is open, the rest to credit (one path for manual payments and paid
    debit orders)."""
    return postings.receive_payments(conn, received, sast_today())


def reverse_payment(
    conn: Connection,
    original: dict[str, Any],
    *,
    reason: str,
    today: date,
    code: str | None = None,
    reference: str | None = None,
    recorded_by: UUID | None = None,
) -> tuple[UUID, str]:
    """Undo a successful payment: the reversal row, then in the ledger exactly the payment's own allocations
    given back and its money taken off the account (an invoice a credit note settled stays settled). One
    path for the reconciliation's disputes and the admin's reversals: (reversal id, the invoice's new
    status)."""
    reversal_id = payments.insert_reversal(
        conn, original, reason=reason, code=code, reference=reference, recorded_by=recorded_by
    )
    postings.reverse_receipt(
        conn,
        transaction_id=original["id"],
        reversal_transaction_id=reversal_id,
        customer_id=original["customer_id"],
        today=today,
    )
    return reversal_id, payments.invoice_status(conn, original["invoice_id"])


def reverse_manual_payment(
    conn: Connection,
    admin: AdminPrincipal,
    transaction_id: UUID,
    request: PaymentReversalRequest,
    request_id: str,
) -> PaymentReversal:
    """An EFT or cash payment entered by mistake, undone (never deleted) and logged on the invoice."""
    admin.require("billing_admin", "super_admin")
    original = payments.lock_payment(conn, transaction_id)
    if original is None:
        raise NotFound("No such payment.")
    if original["kind"] != "payment" or original["provider"] not in MANUAL_PROVIDERS:
        raise InvalidState(
            "Only a manual (EFT or cash) payment can be reversed here; the bank reverses a debit order.",
            current_status=original["status"],
        )
    if original["status"] != "successful":
        raise InvalidState(f"The payment is {original['status']}.", current_status=original["status"])
    before = invoice_actions.lock_invoice(conn, original["invoice_id"])
    assert before is not None  # a payment's invoice is never deleted (ON DELETE RESTRICT)
    if before["status"] not in PAYABLE_STATUSES:
        raise InvalidState(
            f"The invoice is {before['status']}; its payments can no longer be reversed.",
            current_status=before["status"],
        )
    reversal_id, _ = reverse_payment(
        conn, original, reason=request.reason, today=sast_today(), recorded_by=admin.admin_id
    )
    after = invoice_actions.lock_invoice(conn, original["invoice_id"])
    assert after is not None
    invoice_actions.log_action(
        conn,
        {
            "invoice_id": before["id"],
            "customer_id": before["customer_id"],
            "action": "payment_reversal",
            "previous_status": before["status"],
            "new_status": after["status"],
            "reason": request.reason,
            "actor_admin_id": admin.admin_id,
            "request_id": request_id,
            "previous_data": before,
            "new_data": after,
            "details": {
                "transaction_id": str(transaction_id),
                "reversal_id": str(reversal_id),
                "amount": format_money(original["amount"]),
            },
        },
    )
    return PaymentReversal(
        id=reversal_id,
        original_transaction_id=transaction_id,
        invoice_id=before["id"],
        invoice_number=before["invoice_number"],
        customer_id=before["customer_id"],
        amount=original["amount"],
        reason=request.reason,
        invoice_status=after["status"],
        invoice_amount_due=max(after["amount_due"], Decimal("0")),
    )


def customer_payments(
    conn: Connection, customer_id: UUID, *, limit: int, cursor: str | None
) -> Page[PaymentItem]:
    return _page(PaymentItem, conn, limit, cursor, customer_id=customer_id)


def admin_payments(
    conn: Connection,
    admin: AdminPrincipal,
    *,
    customer_id: UUID | None,
    status: str | None,
    batch_reference: str | None,
    date_from: date | None,
    date_to: date | None,
    limit: int,
    cursor: str | None,
) -> Page[AdminPaymentItem]:
    admin.require("billing_admin", "super_admin", "support")
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed("from: must not be after to", field="from")
    return _page(
        AdminPaymentItem,
        conn,
        limit,
        cursor,
        customer_id=customer_id,
        status=status,
        batch_reference=batch_reference,
        date_from=date_from,
        date_to=date_to,
    )


def _page(
    model: type[Item],
    conn: Connection,
    limit: int,
    cursor: str | None,
    *,
    customer_id: UUID | None,
    status: str | None = None,
    batch_reference: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Page[Item]:
    """One page of payment transactions, newest first, as `model` (what the customer or the admin sees)."""
    after = None
    if cursor:
        at, row_id = decode_cursor(cursor, datetime.fromisoformat, UUID)
        after = (at, row_id)
    rows = payments.list_page(
        conn,
        customer_id=customer_id,
        status=status,
        batch_reference=batch_reference,
        date_from=date_from,
        date_to=date_to,
        limit=limit,
        after=after,
    )
    items, next_cursor = page_of(rows, limit, lambda row: (row["created_at"], row["id"]))
    return Page[Item](items=[model.model_validate(row) for row in items], next_cursor=next_cursor)
