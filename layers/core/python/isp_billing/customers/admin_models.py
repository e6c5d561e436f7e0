"""The admin API's customer models: create, change, search and the account at a glance."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, StrictBool, StrictInt, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from isp_billing.api_models import ApiModel, RequestModel, ServiceStatus, ServiceType
from isp_billing.customers import contact_rules
from isp_billing.money import Money
from isp_billing.text import SINGLE_LINE

CustomerType = Literal["consumer", "business"]
CustomerStatusFilter = Literal["active_service", "owes_money", "overdue", "suspended"]

_Trimmed = StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
NameText = Annotated[str, _Trimmed, SINGLE_LINE]
"""A first name, last name or company name."""
AddressPartText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), SINGLE_LINE
]
EmailText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=254),
    SINGLE_LINE,
    AfterValidator(contact_rules.normalise_email),
]
PhoneText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=8, max_length=24),
    SINGLE_LINE,
    AfterValidator(contact_rules.normalise_phone),
]
VatNumberText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=10, max_length=14),
    SINGLE_LINE,
    AfterValidator(contact_rules.check_vat_number),
]
PostalCodeText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=4, max_length=4),
    SINGLE_LINE,
    AfterValidator(contact_rules.check_postal_code),
]
StoredAddress = dict[str, Any] | list[Any] | str | None
"""An address as stored: an object of parts (what the API writes); older rows may hold lines or a string."""

BillingDay = Annotated[StrictInt, Field(ge=1, le=31)]
PaymentTermsDays = Annotated[StrictInt, Field(ge=0, le=365)]


class Address(RequestModel):
    line1: AddressPartText = Field(description="Street number and name, or a PO Box.")
    line2: AddressPartText | None = Field(default=None, description="Unit, complex or estate.")
    suburb: AddressPartText | None = Field(default=None, description="Suburb.")
    city: AddressPartText = Field(description="City or town.")
    province: AddressPartText | None = Field(default=None, description="Province.")
    postal_code: PostalCodeText = Field(description="4-digit postal code.")


class BillingSettingsInput(RequestModel):
    billing_day: BillingDay | None = Field(
        default=None,
        description="Day of the month each billing period starts; default `DEFAULT_BILLING_DAY`.",
    )
    payment_terms_days: PaymentTermsDays | None = Field(
        default=None, description="Days from invoice date to due date (default 7)."
    )
    invoice_email: EmailText | None = Field(
        default=None, description="Where invoices are e-mailed; default the customer's e-mail."
    )
    auto_pay: StrictBool = Field(
        default=False, description="Collect invoices from the primary payment method."
    )
    debit_day: BillingDay | None = Field(
        default=None, description="Day of the month debit orders are collected; null: the billing day."
    )


class CustomerCreateRequest(RequestModel):
    customer_type: CustomerType = Field(default="consumer", description="consumer or business.")
    first_name: NameText = Field(description="First name (of the contact person, for a business).")
    last_name: NameText = Field(description="Last name.")
    email: EmailText = Field(description="E-mail; unique regardless of case (a taken one is 409).")
    phone: PhoneText | None = Field(
        default=None,
        description="E.164 (+27821234567); a South African 0821234567 is accepted and converted.",
    )
    physical_address: Address | None = Field(default=None, description="Where the customer is.")
    postal_address: Address | None = Field(default=None, description="Where post goes, if elsewhere.")
    company_name: NameText | None = Field(default=None, description="A business's registered name.")
    vat_number: VatNumberText | None = Field(
        default=None, description="A business's SARS VAT number (10 digits starting with 4), if a VAT vendor."
    )
    is_test: StrictBool = Field(default=False, description="A test account: never billed nor collected.")
    billing: BillingSettingsInput = Field(
        default_factory=BillingSettingsInput, description="Billing settings, written in the same transaction."
    )

    @model_validator(mode="after")
    def _business_details_fit(self) -> CustomerCreateRequest:
        problem = contact_rules.business_details_problem(
            self.customer_type, self.company_name, self.vat_number
        )
        if problem:
            raise PydanticCustomError("business_details", problem)
        return self


class CustomerContactUpdate(RequestModel):
    """Only the fields sent change; `null` clears an optional one."""

    first_name: NameText | None = Field(default=None, description="First name.")
    last_name: NameText | None = Field(default=None, description="Last name.")
    email: EmailText | None = Field(default=None, description="E-mail (unique regardless of case).")
    phone: PhoneText | None = Field(default=None, description="E.164 phone; null clears it.")
    physical_address: Address | None = Field(default=None, description="Physical address; null clears it.")
    postal_address: Address | None = Field(default=None, description="Postal address; null clears it.")
    customer_type: CustomerType | None = Field(default=None, description="consumer or business.")
    company_name: NameText | None = Field(default=None, description="A business's name; null clears it.")
    vat_number: VatNumberText | None = Field(default=None, description="SARS VAT number; null clears it.")

    @model_validator(mode="after")
    def _required_stay_set(self) -> CustomerContactUpdate:
        for name in ("first_name", "last_name", "email", "customer_type"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise PydanticCustomError("required_field", "{field} cannot be cleared", {"field": name})
        return self


class CustomerBillingUpdate(RequestModel):
    """Only the fields sent change; `debit_day: null` means "collect on the billing day"."""

    billing_day: BillingDay | None = Field(
        default=None, description="Not yet changeable here (422): a billing-day change has its own rule."
    )
    debit_day: BillingDay | None = Field(
        default=None, description="Debit-order day (1-31); null: billing day."
    )
    auto_pay: StrictBool | None = Field(default=None, description="Collect invoices from the primary method.")
    payment_terms_days: PaymentTermsDays | None = Field(default=None, description="Days to pay an invoice.")
    invoice_email: EmailText | None = Field(default=None, description="Where invoices are e-mailed.")

    @model_validator(mode="after")
    def _required_stay_set(self) -> CustomerBillingUpdate:
        for name in ("auto_pay", "payment_terms_days", "invoice_email"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise PydanticCustomError("required_field", "{field} cannot be cleared", {"field": name})
        return self


# --- responses -------------------------------------------------------------------------------------------


class CustomerBilling(ApiModel):
    billing_day: int = Field(description="Day of the month each billing period starts.")
    payment_terms_days: int = Field(description="Days from invoice date to due date.")
    invoice_email: str = Field(description="Where invoices are e-mailed.")
    auto_pay: bool = Field(description="Collect invoices from the primary payment method.")
    debit_day: int | None = Field(description="Debit-order day; null: the billing day.")
    credit_balance: Money = Field(description="Account credit carried to the next invoice.")


class Customer(ApiModel):
    id: UUID = Field(description="The customer's id.")
    account_number: str = Field(description="CUS-YYYY-NNNNN: the reference on invoices and debit orders.")
    customer_type: CustomerType = Field(description="consumer or business.")
    first_name: str = Field(description="First name.")
    last_name: str = Field(description="Last name.")
    email: str = Field(description="E-mail.")
    phone: str | None = Field(description="E.164 phone.")
    physical_address: StoredAddress = Field(description="Physical address (an object of parts).")
    postal_address: StoredAddress = Field(description="Postal address.")
    company_name: str | None = Field(description="A business's name.")
    vat_number: str | None = Field(description="A business's VAT number.")
    is_test: bool = Field(description="A test account (never billed nor collected).")
    has_login: bool = Field(description="Whether a Supabase Auth user is linked (the customer can sign in).")
    created_at: datetime = Field(description="When the account was created.")
    updated_at: datetime = Field(description="When it last changed.")


class CustomerWithBilling(Customer):
    billing: CustomerBilling = Field(description="The billing settings.")


class CustomerListItem(ApiModel):
    id: UUID = Field(description="The customer's id.")
    account_number: str = Field(description="CUS-YYYY-NNNNN.")
    customer_type: CustomerType = Field(description="consumer or business.")
    first_name: str = Field(description="First name.")
    last_name: str = Field(description="Last name.")
    company_name: str | None = Field(description="A business's name.")
    email: str = Field(description="E-mail.")
    phone: str | None = Field(description="E.164 phone.")
    is_test: bool = Field(description="A test account.")
    created_at: datetime = Field(description="When the account was created.")


class OverviewService(ApiModel):
    id: UUID = Field(description="The service's id.")
    package_id: UUID | None = Field(description="The package it was sold from.")
    package_name: str = Field(description="The package's name as sold.")
    service_type: ServiceType = Field(description="fibre, lte or wireless.")
    status: ServiceStatus = Field(description="pending, active, suspended or cancelled.")
    monthly_price: Money = Field(description="What the customer pays a month, VAT inclusive.")
    activation_date: date | None = Field(description="When it went live.")
    cancellation_effective_date: date | None = Field(description="Its last day, if cancelled.")


class OverviewSuspension(ApiModel):
    id: UUID = Field(description="The suspension's id.")
    service_id: UUID = Field(description="The suspended service.")
    suspension_type: str = Field(description="non_payment, customer_request, fraud, technical, ...")
    reason: str | None = Field(description="Why, as recorded.")
    suspended_at: datetime = Field(description="When.")
    planned_end: date | None = Field(description="When it is planned to end, if known.")


class OverviewPaymentMethod(ApiModel):
    id: UUID = Field(description="The payment method's id.")
    method_type: str = Field(description="debit_order, card or eft.")
    display_name: str | None = Field(description="The customer's label.")
    is_primary: bool = Field(description="The method collections use.")
    bank_name: str | None = Field(description="A debit order's bank.")
    account_number_masked: str | None = Field(description="****1234.")
    mandate_status: str | None = Field(description="pending, accepted, declined, cancelled or expired.")
    card_brand: str | None = Field(description="A card's brand.")
    card_last4: str | None = Field(description="A card's last four digits.")


class OverviewInvoice(ApiModel):
    id: UUID = Field(description="The invoice's id.")
    invoice_number: str = Field(description="INV-YYYY-NNNNN or CRN-YYYY-NNNNN.")
    kind: str = Field(description="recurring, one_off, final or credit_note.")
    invoice_date: date = Field(description="The invoice date.")
    due_date: date = Field(description="Pay by this date.")
    total_amount: Money = Field(description="Total including VAT.")
    amount_due: Money = Field(description="Still to pay.")
    status: str = Field(description="draft, issued, partially_paid, paid, overdue, void, written_off.")


class OverviewPayment(ApiModel):
    id: UUID = Field(description="The payment transaction's id.")
    payment_date: date = Field(description="Action date or arrival date.")
    amount: Money = Field(description="Amount.")
    kind: str = Field(description="collection, payment, reversal or refund.")
    method: str = Field(description="debit_order, eft or cash.")
    invoice_number: str | None = Field(description="The invoice it is for.")
    status: str = Field(description="pending, submitted, successful, failed or reversed.")


class TimelineEntry(ApiModel):
    at: datetime = Field(description="When it happened.")
    source: Literal["account", "service", "invoice", "payment", "notification"] = Field(
        description="Which record it comes from."
    )
    action: str = Field(description="What happened (the source's action or kind).")
    subject_id: UUID | None = Field(description="The service, invoice, payment or notification concerned.")
    summary: str = Field(description="In words, without personal data.")
    actor: str | None = Field(description="The admin's name, `customer` or `system`.")


class CustomerOverview(CustomerWithBilling):
    balance_owed: Money = Field(description="The amount due over every unpaid invoice.")
    overdue_amount: Money = Field(description="The part of it past its due date.")
    services: list[OverviewService] = Field(description="Every service, newest first.")
    open_suspensions: list[OverviewSuspension] = Field(description="Suspensions not yet lifted.")
    payment_methods: list[OverviewPaymentMethod] = Field(description="Active methods, primary first.")
    recent_invoices: list[OverviewInvoice] = Field(description="The latest invoices and credit notes.")
    recent_payments: list[OverviewPayment] = Field(description="The latest payments and debit orders.")
    timeline: list[TimelineEntry] = Field(description="The latest actions on the account, newest first.")


class BillingDayChangeResult(ApiModel):
    """What a change of billing day did to the customer's billing periods."""

    old_day: int = Field(description="The billing day before the change.")
    new_day: int = Field(description="The billing day from now on.")
    next_billing_date: date = Field(description="The first billing date of the new day.")
    current_period_start: date | None = Field(description="The period being served now, as it now ends.")
    current_period_end: date | None = Field(
        description="Its last day (shortened where the new day is nearer)."
    )
    bridging_period_start: date | None = Field(
        description="A bridging period to the new billing date, billed pro-rata on its first day (or null)."
    )
    bridging_period_end: date | None = Field(description="Its last day.")
    overlap_start: date | None = Field(
        description="Days already invoiced that now fall in the next period: credited on the next invoice."
    )
    overlap_end: date | None = Field(description="Their last day.")
    overlap_credit: Money = Field(
        description="The credit for those days (0.00 or negative), at the prices invoiced."
    )


class BillingUpdateResult(CustomerBilling):
    changed_fields: list[str] = Field(description="The settings this request changed (empty: none did).")
    billing_day_change: BillingDayChangeResult | None = Field(
        default=None, description="When the billing day changed: the periods it moved (null otherwise)."
    )
