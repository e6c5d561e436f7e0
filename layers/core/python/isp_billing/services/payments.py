"""Manual payments (EFT, cash) on invoices, and the payment lists customers and admins see."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from isp_billing.auth import AdminPrincipal
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import InvalidState, NotFound, ValidationFailed
from isp_billing.models.payments import AdminPaymentItem, ManualPayment, ManualPaymentRequest, PaymentItem
from isp_billing.pagination import Page, decode_cursor, page_of
from isp_billing.repositories import payments

Item = TypeVar("Item", bound=PaymentItem)

PAYABLE_STATUSES = {"issued", "partially_paid", "overdue", "paid"}


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
    (applied,) = payments.apply_to_invoices(conn, [(invoice_id, request.amount)])
    after = payments.invoice_for_payment(conn, invoice_id)
    assert after is not None
    return ManualPayment(
        id=payment_id,
        invoice_id=invoice_id,
        invoice_number=invoice["invoice_number"],
        customer_id=invoice["customer_id"],
        method=request.method,
        amount=request.amount,
        applied=applied["applied"],
        credited=applied["excess"],
        payment_date=request.payment_date,
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
