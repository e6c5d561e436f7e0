"""Admin billing API: the billing preview, price changes and once-off charges."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BeforeValidator, Field, StringConstraints, WithJsonSchema

from isp_billing.api_models import ApiModel, IsoDate, RequestModel
from isp_billing.money import Money
from isp_billing.text import SINGLE_LINE, ReasonText

_MONEY_TEXT = re.compile(r"^-?\d{1,10}\.\d{2}$")


def _money_text(value: Any) -> Decimal:
    """Amounts arrive as strings with two decimals ("799.00"), never as JSON numbers (floats)."""
    if not isinstance(value, str) or not _MONEY_TEXT.match(value):
        raise ValueError('must be a string amount with two decimals, e.g. "799.00"')
    return Decimal(value)


MoneyIn = Annotated[
    Decimal,
    BeforeValidator(_money_text),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d{1,10}\.\d{2}$", "examples": ["799.00"]}),
]
ChargeKind = Literal["installation", "equipment", "adjustment"]
ChargeStatus = Literal["pending", "invoiced", "cancelled"]


ChargeDescriptionText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SINGLE_LINE
]
"""A once-off charge's line text on the invoice."""


class PreviewRequest(RequestModel):
    run_date: IsoDate = Field(description="The SAST date of the run to preview (it bills up to this date).")
    customer_id: UUID | None = Field(
        default=None,
        description="Only this customer's invoices; required when the run would bill more than"
        " BILLING_PREVIEW_MAX_CUSTOMERS customers (default 1000).",
    )


class PreviewLine(ApiModel):
    kind: str = Field(
        description="recurring, pro_rata, credit, adjustment, installation, equipment, overage."
    )
    description: str = Field(description="The line's text as the invoice shows it.")
    amount: Money = Field(description="VAT-inclusive amount; negative for a credit.")
    service_id: UUID | None = Field(description="The service the line is for, if any.")
    period_start: date | None = Field(description="First day the line covers, if it covers days.")
    period_end: date | None = Field(description="Last day the line covers, if it covers days.")
    source: dict[str, Any] = Field(description="Why this amount: the rule, the dates and the figures used.")


class PreviewInvoice(ApiModel):
    customer_id: UUID = Field(description="The customer invoiced.")
    invoice_date: date = Field(description="The invoice date (the period's first day).")
    due_date: date = Field(description="Invoice date + the customer's payment terms.")
    period_start: date = Field(description="First day of the billing period.")
    period_end: date = Field(description="Last day of the billing period.")
    vat_rate: Money = Field(description="VAT rate in percent in force on the invoice date.")
    subtotal: Money = Field(description="Total less VAT.")
    vat_amount: Money = Field(description="VAT extracted once from the inclusive total.")
    kind: str = Field(
        description="recurring, or credit_note when the credits for earlier supplies exceed the new charges."
    )
    total_amount: Money = Field(description="VAT-inclusive total; negative only for a credit note.")
    credit_applied: Money = Field(
        description="Money on account the run allocates to the invoice after tax (not a line)."
    )
    credit_added: Money = Field(description="A credit note's amount: credit on the customer's account.")
    lines: list[PreviewLine] = Field(description="The lines, each with its source.")


class PreviewProblem(ApiModel):
    customer_id: UUID = Field(description="The customer that would be skipped.")
    error_code: str = Field(description="Why, as the validation error would record it.")
    message: str = Field(description="A description without personal data.")


class PreviewResponse(ApiModel):
    run_date: date = Field(description="The run date previewed.")
    billed_from: date | None = Field(description="First billing date the run would bill (catch-up).")
    billed_through: date | None = Field(description="Last billing date the run would bill.")
    invoices: list[PreviewInvoice] = Field(description="The invoices the run would write.")
    problems: list[PreviewProblem] = Field(
        description="Customers the run would skip with a validation error."
    )
    nothing_to_bill: int = Field(description="Customers due with nothing to bill (their cycle is skipped).")


class ChangePriceRequest(RequestModel):
    monthly_price: MoneyIn | None = Field(
        default=None, description='New VAT-inclusive monthly price, e.g. "899.00". Default: the package\'s.'
    )
    package_id: UUID | None = Field(default=None, description="New package (an upgrade or downgrade).")
    effective_date: IsoDate = Field(description="From this SAST day; not before the current period's start.")
    reason: ReasonText = Field(description="Why; kept in the audit log.")


class ChangePriceResult(ApiModel):
    service_id: UUID = Field(description="The service changed.")
    action_id: UUID = Field(description="The price_change audit row.")
    package_id: UUID = Field(description="The package from now on.")
    package_name: str = Field(description="The package's name from now on.")
    old_price: Money = Field(description="Monthly price before.")
    new_price: Money = Field(description="Monthly price from the effective date.")
    effective_date: date = Field(description="The day the new price applies from.")


class ChargeCreateRequest(RequestModel):
    kind: ChargeKind = Field(description="installation, equipment or adjustment.")
    description: ChargeDescriptionText = Field(description="The line's text on the invoice.")
    amount: MoneyIn = Field(description="VAT-inclusive; positive (an adjustment may be negative, not zero).")
    due_date: IsoDate = Field(description="The next recurring invoice on or after this SAST date carries it.")


class Charge(ApiModel):
    id: UUID = Field(description="The charge's id.")
    customer_id: UUID = Field(description="The customer charged.")
    kind: ChargeKind = Field(description="installation, equipment or adjustment.")
    description: str = Field(description="The line's text on the invoice.")
    amount: Money = Field(description="VAT-inclusive amount.")
    due_date: date = Field(description="Carried by the first recurring invoice on or after this date.")
    status: ChargeStatus = Field(description="pending (not invoiced yet), invoiced or cancelled.")
    invoice_id: UUID | None = Field(description="The invoice that carried it, once invoiced.")
    invoice_number: str | None = Field(description="That invoice's number.")
    created_at: datetime = Field(description="When it was added (ISO 8601 instant).")
    cancelled_at: datetime | None = Field(description="When it was cancelled, if it was.")
