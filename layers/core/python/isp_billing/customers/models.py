"""What a customer sees of their own account."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field

from isp_billing.api_models import ApiModel, ServiceStatus, ServiceType
from isp_billing.money import Money


class CustomerService(ApiModel):
    id: UUID = Field(description="The service's id.")
    package_id: UUID | None = Field(description="The catalogue package this service was sold from.")
    package_name: str = Field(description="The package's name as sold.")
    service_type: ServiceType = Field(description="The kind of line: fibre, lte or wireless.")
    status: ServiceStatus = Field(
        description="pending (not yet live), active, suspended, or cancelled (ended or ending on the"
        " cancellation effective date)."
    )
    monthly_price: Money = Field(
        description="What this customer pays a month: ZAR, VAT inclusive, two decimals as a string."
    )
    speed_down_mbps: int | None = Field(
        default=None, description="The package's download speed in Mbps; null when not stated."
    )
    speed_up_mbps: int | None = Field(
        default=None, description="The package's upload speed in Mbps; null when not stated."
    )
    data_cap_gb: int | None = Field(default=None, description="Null means uncapped.")
    activation_date: date | None = Field(description="The SAST date the line went live; null while pending.")
    suspension_date: date | None = Field(
        default=None, description="The SAST date the service was suspended; null unless suspended."
    )
    cancellation_effective_date: date | None = Field(
        default=None, description="The last day of service (SAST); null unless cancelled."
    )


class BillingSettings(ApiModel):
    billing_day: int = Field(ge=1, le=31, description="Day of the month each billing period starts.")
    payment_terms_days: int = Field(description="Days from invoice date to due date.")
    invoice_email: str | None = Field(
        description="The address invoices are emailed to (initially the customer's own email)."
    )
    auto_pay: bool = Field(description="Collect invoices from the primary payment method.")
    debit_day: int | None = Field(
        ge=1,
        le=31,
        description="Day of the month (1-31) debit orders are collected; null: the billing day is used.",
    )
    credit_balance: Money = Field(
        description="Account credit carried to the next invoice: ZAR, two decimals as a string,"
        " never negative."
    )
