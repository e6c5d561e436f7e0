"""Invoice API models: the customer's invoices and billing summary, the admin's invoices and actions."""

from __future__ import annotations

import datetime as _dt
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from isp_billing.api_models import ApiModel, RequestModel
from isp_billing.billing.models import MoneyIn
from isp_billing.money import Money, RatePercent
from isp_billing.text import ReasonText
from isp_billing.usage.models import Megabytes, Percent

InvoiceStatus = Literal["draft", "issued", "partially_paid", "paid", "overdue", "void", "written_off"]
CustomerInvoiceStatus = Literal["issued", "partially_paid", "paid", "overdue", "written_off"]
"""The statuses a customer sees: drafts are not invoices yet, a void invoice was withdrawn."""
InvoiceKind = Literal["recurring", "one_off", "final", "credit_note"]


class InvoiceSummary(ApiModel):
    """An invoice in a list: the document's figures and where it stands."""

    id: UUID = Field(description="The invoice's id.")
    invoice_number: str = Field(description="INV-YYYY-NNNNN (a credit note: CRN-YYYY-NNNNN).")
    kind: InvoiceKind = Field(description="recurring, one_off, final or credit_note.")
    invoice_date: date = Field(description="The invoice date (SAST).")
    due_date: date = Field(description="Pay by this date.")
    period_start: date | None = Field(description="First day of the billing period it covers.")
    period_end: date | None = Field(description="Last day of the billing period it covers.")
    subtotal: Money = Field(description="Total excluding VAT.")
    vat_rate: RatePercent = Field(description="The VAT rate used, in percent (e.g. 15.00).")
    vat_amount: Money = Field(description="The VAT contained in the total.")
    total_amount: Money = Field(description="Total including VAT (negative for a credit note).")
    amount_paid: Money = Field(description="Paid so far.")
    amount_credited: Money = Field(description="Taken off the amount due by credit notes.")
    account_credit_applied: Money = Field(
        description="Money on account (credit balance) applied to this invoice after tax, shown below the"
        " total as 'Less: account credit applied'; part of amount_paid and amount_credited.",
    )
    amount_due: Money = Field(description="Still to pay: total - paid - credited.")
    status: InvoiceStatus = Field(description="issued, partially_paid, paid, overdue, written_off, ...")
    credit_note_for: UUID | None = Field(description="A credit note: the invoice it corrects.")
    pdf_ready: bool = Field(description="Whether the tax invoice PDF has been generated.")


class InvoiceLine(ApiModel):
    id: UUID = Field(description="The line's id.")
    kind: str = Field(
        description="recurring, pro_rata, credit, adjustment, installation, equipment, overage, ..."
    )
    description: str = Field(description="The line's text as the invoice shows it.")
    period_start: date | None = Field(description="First day the line covers, if it covers days.")
    period_end: date | None = Field(description="Last day the line covers, if it covers days.")
    amount: Money = Field(description="VAT-inclusive amount; negative for a credit.")
    reason: str = Field(
        description="Why this amount, in words (e.g. 'Pro-rata 10-24 Feb 2026: 15 of 31 days of R699.00')."
    )


class AppliedPayment(ApiModel):
    id: UUID = Field(description="The payment transaction's id.")
    date: _dt.date = Field(description="When it was processed (else its action date, else when it was made).")
    amount: Money = Field(description="The amount.")
    kind: str = Field(description="collection, refund or reversal.")
    method: str = Field(description="debit_order, card, eft or manual.")
    status: str = Field(description="pending, submitted, successful, failed or reversed.")


class InvoiceServiceUsage(ApiModel):
    """A service's usage over the previous billing period, as the invoice was issued with it."""

    service_id: UUID = Field(description="The service's id.")
    service_name: str = Field(description="The package's name as sold.")
    period_start: date = Field(description="First day of the usage period (the previous billing period).")
    period_end: date = Field(description="Last day of the usage period.")
    upload_mb: Megabytes = Field(description="Upload in MB (a manual correction replaces the synced day).")
    download_mb: Megabytes = Field(description="Download in MB.")
    total_mb: Megabytes = Field(description="Upload plus download in MB.")
    data_cap_gb: int | None = Field(description="The package's data cap in GB then; null when uncapped.")
    percent_used: Percent | None = Field(description="Total over the cap (1 GB = 1024 MB); null uncapped.")
    out_of_bundle_price_per_gb: Money | None = Field(
        description="The VAT-inclusive price per GB above the cap then; null when there is none."
    )


class CustomerInvoiceDetail(InvoiceSummary):
    lines: list[InvoiceLine] = Field(description="The invoice's lines.")
    payments: list[AppliedPayment] = Field(description="The payments made against it, oldest first.")
    usage: list[InvoiceServiceUsage] = Field(
        description="The previous period's usage per service (recurring invoices billed since issue 13)."
    )


class LastPayment(ApiModel):
    date: _dt.date = Field(description="When it was processed.")
    amount: Money = Field(description="The amount.")
    method: str = Field(description="debit_order, card, eft or manual.")


class BillingSummary(ApiModel):
    balance_owed: Money = Field(description="The amount due over every unpaid invoice.")
    overdue_amount: Money = Field(description="The part of it whose due date has passed.")
    credit_balance: Money = Field(description="Account credit, taken off the next invoice.")
    next_billing_date: date | None = Field(
        description="The next invoice's date (null without a billing day)."
    )
    next_invoice_amount: Money | None = Field(
        description="What the billing run would invoice on that date as things stand (the run's own rules);"
        " null when the account needs attention first."
    )
    last_payment: LastPayment | None = Field(description="The latest successful payment, if any.")
    paid_this_year: Money = Field(description="Successful payments processed this calendar year (SAST).")


# --- admin ---------------------------------------------------------------------------------------------


class AdminInvoiceSummary(InvoiceSummary):
    customer_id: UUID = Field(description="The customer invoiced.")
    account_number: str = Field(description="The customer's account number.")
    amount_written_off: Money | None = Field(description="What was still due when it was written off.")
    pdf_url: str | None = Field(description="Where the PDF is stored, once generated.")
    pdf_generated_at: datetime | None = Field(description="When the PDF was generated.")


class AdminInvoiceLine(InvoiceLine):
    service_id: UUID | None = Field(description="The service the line is for, if any.")
    quantity: Decimal = Field(description="Quantity (1 for every line the run writes).")
    unit_amount: Money = Field(description="Amount per unit.")
    source: dict[str, Any] = Field(description="Why this amount: the rule, the dates and the figures used.")


class AdminPayment(AppliedPayment):
    provider: str = Field(description="netcash, manual or eft.")
    failure_code: str | None = Field(description="The provider's unpaid code, if it failed.")


class InvoiceAction(ApiModel):
    id: UUID = Field(description="The log row's id.")
    action: str = Field(description="credit_note, void or write_off.")
    previous_status: str = Field(description="The invoice's status before.")
    new_status: str = Field(description="The invoice's status after.")
    reason: str = Field(description="Why, as the admin gave it.")
    actor_type: str = Field(description="admin or system.")
    actor_admin_id: UUID | None = Field(description="The admin who acted.")
    request_id: str | None = Field(description="The request that did it.")
    previous_data: dict[str, Any] = Field(description="The invoice's figures before.")
    new_data: dict[str, Any] = Field(description="The invoice's figures after.")
    details: dict[str, Any] = Field(description="What the action wrote (e.g. the credit note and its split).")
    created_at: datetime = Field(description="When.")


class AdminInvoiceDetail(AdminInvoiceSummary):
    lines: list[AdminInvoiceLine] = Field(description="The lines, with their full sources.")
    usage: list[InvoiceServiceUsage] = Field(description="The previous period's usage per service.")
    payments: list[AdminPayment] = Field(description="Payment transactions for it, oldest first.")
    credit_notes: list[InvoiceSummary] = Field(description="Credit notes issued against it, oldest first.")
    actions: list[InvoiceAction] = Field(description="Admin actions on it, oldest first.")


class CreditLineRequest(RequestModel):
    line_id: UUID = Field(description="A line of the invoice to credit.")
    amount: MoneyIn | None = Field(
        default=None, description="How much of it (VAT-inclusive); default what is left of the line."
    )


class _CreditNoteBase(RequestModel):
    reason: ReasonText = Field(description="Why the invoice is corrected (shown on the credit note).")


class FullCreditNote(_CreditNoteBase):
    """mode=full: what is left of the whole invoice; neither lines nor amount."""

    mode: Literal["full"] = Field(description="full: what is left of the whole invoice.")

    @property
    def lines(self) -> list[CreditLineRequest] | None:
        return None

    @property
    def amount(self) -> Decimal | None:
        return None


class LinesCreditNote(_CreditNoteBase):
    """mode=lines: the given lines (each in full or in part); lines required, no amount."""

    mode: Literal["lines"] = Field(description="lines: the given lines.")
    lines: list[CreditLineRequest] = Field(
        min_length=1, max_length=200, description="The lines to credit (required with mode=lines)."
    )

    @property
    def amount(self) -> Decimal | None:
        return None


class AmountCreditNote(_CreditNoteBase):
    """mode=amount: a VAT-inclusive amount off the invoice; amount required, no lines."""

    mode: Literal["amount"] = Field(description="amount: an amount.")
    amount: MoneyIn = Field(description="The VAT-inclusive amount to credit (required with mode=amount).")

    @property
    def lines(self) -> list[CreditLineRequest] | None:
        return None


# `mode` decides which other field is required: a oneOf with a discriminator in the spec, and a 422 naming
# the mode and the missing (or unexpected) field.
CreditNoteRequest = Annotated[
    FullCreditNote | LinesCreditNote | AmountCreditNote, Field(discriminator="mode")
]


class CreditNoteResult(ApiModel):
    credit_note: InvoiceSummary = Field(description="The credit note written.")
    invoice: InvoiceSummary = Field(description="The corrected invoice, after.")
    applied_to_invoice: Money = Field(description="The part taken off the invoice's amount due.")
    added_to_credit_balance: Money = Field(description="The part beyond the amount due: account credit.")


class InvoiceActionRequest(RequestModel):
    reason: ReasonText = Field(description="Why (kept in the invoice's action log).")
