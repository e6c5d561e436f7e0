"""Payments API: manual (EFT, cash) payments on invoices and their reversal, and the payment lists of
customers and admins."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from isp_billing.api_models import ApiModel, IsoDate, RequestModel
from isp_billing.billing.models import MoneyIn
from isp_billing.money import Money
from isp_billing.text import PaymentReferenceText, ReasonText

ManualMethod = Literal["eft", "cash"]
PaymentStatus = Literal["pending", "submitted", "successful", "failed", "reversed"]


class _ManualPaymentBase(RequestModel):
    amount: MoneyIn = Field(description='Amount received, e.g. "350.00"; more than is owed becomes credit.')
    payment_date: IsoDate = Field(description="The SAST day the money arrived; not in the future.")


class EftPayment(_ManualPaymentBase):
    """An EFT: the bank statement's reference is required."""

    method: Literal["eft"] = Field(description="eft: a transfer into the business's bank account.")
    bank_reference: PaymentReferenceText = Field(
        description="The reference on the bank statement (required for an EFT)."
    )


class CashPayment(_ManualPaymentBase):
    """Cash: a reference is optional."""

    method: Literal["cash"] = Field(description="cash: money received in person.")
    bank_reference: PaymentReferenceText | None = Field(
        default=None, description="A receipt or deposit reference, if any."
    )


# `method` decides whether bank_reference is required: a oneOf with a discriminator in the spec.
ManualPaymentRequest = Annotated[EftPayment | CashPayment, Field(discriminator="method")]


class ManualPayment(ApiModel):
    id: UUID = Field(description="The payment transaction's id.")
    invoice_id: UUID = Field(description="The invoice paid.")
    invoice_number: str = Field(description="Its number.")
    customer_id: UUID = Field(description="The invoice's customer.")
    method: ManualMethod = Field(description="eft or cash.")
    amount: Money = Field(description="Amount received.")
    applied: Money = Field(description="Applied to the invoice (at most what it still owed).")
    credited: Money = Field(description="The excess, added to the customer's credit balance.")
    payment_date: date = Field(description="The day the money arrived.")
    invoice_status: str = Field(description="The invoice's status after the payment (paid, partially_paid).")
    invoice_amount_due: Money = Field(description="What the invoice still owes.")


class PaymentItem(ApiModel):
    id: UUID = Field(description="The payment transaction's id.")
    payment_date: date = Field(description="A debit order's action date, or the day a payment arrived.")
    amount: Money = Field(description="Amount.")
    kind: str = Field(description="collection (debit order), payment (EFT/cash), reversal or refund.")
    method: str = Field(description="debit_order, eft or cash.")
    invoice_number: str | None = Field(description="The invoice it is for.")
    status: PaymentStatus = Field(description="pending, submitted, successful, failed or reversed.")
    failure_reason: str | None = Field(description="Why it failed or was reversed, in words.")


class AdminPaymentItem(PaymentItem):
    customer_id: UUID = Field(description="The customer.")
    invoice_id: UUID | None = Field(description="The invoice's id.")
    batch_reference: str | None = Field(description="The NetCash batch of a debit order.")
    failure_code: str | None = Field(description="The bank's unpaid code, or our own failure code.")
    attempt_number: int = Field(description="Which attempt at collecting the invoice this was.")
    created_at: datetime = Field(description="When the row was written.")


class PaymentReversalRequest(RequestModel):
    reason: ReasonText = Field(description="Why it is reversed (kept on the reversal and in the log).")


class PaymentReversal(ApiModel):
    id: UUID = Field(description="The reversal transaction's id.")
    original_transaction_id: UUID = Field(description="The payment reversed (now `reversed`).")
    invoice_id: UUID = Field(description="The invoice it was paid on.")
    invoice_number: str = Field(description="Its number.")
    customer_id: UUID = Field(description="The invoice's customer.")
    amount: Money = Field(description="Taken back: off the invoice, the rest off the credit it made.")
    reason: str = Field(description="Why.")
    invoice_status: str = Field(description="The invoice's status after (issued, overdue or partially_paid).")
    invoice_amount_due: Money = Field(description="What the invoice owes after.")
