"""What a customer sees of their own account."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field

from isp_billing.models.common import ApiModel, ServiceStatus, ServiceType
from isp_billing.money import Money


class CustomerService(ApiModel):
    id: UUID
    package_id: UUID | None = Field(description="The catalogue package this service was sold from.")
    package_name: str
    service_type: ServiceType
    status: ServiceStatus
    monthly_price: Money = Field(description="What this customer pays a month, VAT inclusive, in ZAR.")
    speed_down_mbps: int | None = None
    speed_up_mbps: int | None = None
    data_cap_gb: int | None = Field(default=None, description="Null means uncapped.")
    activation_date: date | None
    suspension_date: date | None = None
    cancellation_effective_date: date | None = None


class BillingSettings(ApiModel):
    billing_day: int = Field(ge=1, le=31, description="Day of the month each billing period starts.")
    payment_terms_days: int = Field(description="Days from invoice date to due date.")
    invoice_email: str | None
    auto_pay: bool = Field(description="Collect invoices from the primary payment method.")
    debit_day: int | None = Field(ge=1, le=31)
    credit_balance: Money = Field(description="Account credit carried to the next invoice, in ZAR.")
