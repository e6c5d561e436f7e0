"""API models of orders, provisioning, package changes and fixed-term contracts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from isp_billing.api_models import ApiModel, IsoDate, RequestModel, ServiceStatus
from isp_billing.billing.models import ChargeDescriptionText, MoneyIn
from isp_billing.lifecycle.models import CancelRequest, ServiceActionResult
from isp_billing.money import Money
from isp_billing.text import SINGLE_LINE, NoteText, ReasonText

AddressLine = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SINGLE_LINE
]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{4}$")]


class InstallationAddress(RequestModel):
    street: AddressLine = Field(description="Street address, e.g. 12 Long Street.")
    suburb: AddressLine | None = Field(default=None, description="Suburb.")
    city: AddressLine = Field(description="City or town.")
    province: AddressLine | None = Field(default=None, description="Province.")
    postal_code: PostalCode = Field(description="Four-digit postal code.")
    unit: AddressLine | None = Field(default=None, description="Unit, complex or floor.")


class OnceOffCharge(RequestModel):
    kind: Literal["installation", "equipment"] = Field(description="installation or equipment.")
    description: ChargeDescriptionText = Field(description="The line's text on the invoice.")
    amount: MoneyIn = Field(description="VAT-inclusive, positive.")


class OrderRequest(RequestModel):
    package_id: UUID = Field(description="A sellable package.")
    installation_address: InstallationAddress = Field(description="Where the line is installed.")
    requested_date: IsoDate = Field(description="The day the customer would like it live (today or later).")
    monthly_price: MoneyIn | None = Field(
        default=None, description="A negotiated price instead of the package's (billing_admin and up)."
    )
    price_override_reason: ReasonText | None = Field(
        default=None, description="Why the price differs; required with monthly_price."
    )
    charges: list[OnceOffCharge] | None = Field(
        default=None,
        max_length=10,
        description="Once-off charges; default: the package's installation and equipment fees.",
    )


class OrderCharge(ApiModel):
    id: UUID = Field(description="The once-off charge.")
    kind: str = Field(description="installation or equipment.")
    description: str = Field(description="The line's text on the invoice.")
    amount: Money = Field(description="VAT-inclusive amount.")
    due_date: date = Field(description="Carried by the first invoice on or after this day.")


class OrderResult(ApiModel):
    service_id: UUID = Field(description="The new pending service.")
    customer_id: UUID = Field(description="Its customer.")
    package_id: UUID = Field(description="The package sold.")
    package_name: str = Field(description="The package's name.")
    status: ServiceStatus = Field(description="pending until activated.")
    monthly_price: Money = Field(description="What the customer pays a month.")
    price_override_reason: str | None = Field(description="Why the price is not the package's.")
    requested_date: date = Field(description="The day the customer would like it live.")
    term_months: int = Field(description="The package's minimum term; 0 = month to month.")
    charges: list[OrderCharge] = Field(description="The once-off charges added.")
    action_id: UUID = Field(description="The `order` audit row.")


class ProvisioningPending(ApiModel):
    """Interstellio's answer to creating the subscriber was uncertain: the service stays pending with
    provisioning_status `requested`; retry-provider-sync finishes it (finds or creates the subscriber, stores
    its id, activates the service)."""

    service_id: UUID = Field(description="The service.")
    status: ServiceStatus = Field(description="Still pending.")
    provisioning_status: Literal["requested"] = Field(description="Creation owed at Interstellio.")
    work_id: UUID = Field(description="The committed intent retry-provider-sync settles.")
    provider: dict[str, Any] = Field(description="The provider's error facts (code, HTTP status).")


class ChangePackageRequest(RequestModel):
    package_id: UUID = Field(description="The new package (sellable).")
    effective_date: IsoDate = Field(description="From this SAST day: the price and the line's profile.")
    reason: ReasonText = Field(description="Why; kept in the audit log.")


class ChangePackageResult(ApiModel):
    service_id: UUID = Field(description="The service.")
    price_action_id: UUID = Field(description="The price_change audit row (the billing side).")
    old_price: Money = Field(description="Monthly price before.")
    new_price: Money = Field(description="Monthly price from the effective date.")
    effective_date: date = Field(description="The day both sides apply.")
    profile_change_id: UUID | None = Field(
        description="The scheduled Interstellio profile switch; null when the line needs none."
    )


class ChangeRequestCreate(RequestModel):
    package_id: UUID = Field(description="The sellable package the customer would like.")
    note: NoteText | None = Field(default=None, description="Anything the customer wants to add.")


class ChangeRequest(ApiModel):
    id: UUID = Field(description="The request.")
    service_id: UUID = Field(description="The service it is for.")
    package_id: UUID = Field(description="The package asked for.")
    package_name: str = Field(description="Its name.")
    note: str | None = Field(description="The customer's note.")
    status: Literal["pending", "approved", "declined"] = Field(description="Where it stands.")
    effective_date: date | None = Field(description="When an approved change applies.")
    decision_reason: str | None = Field(description="Why it was declined (or approved).")
    decided_at: datetime | None = Field(description="When an admin decided.")
    created_at: datetime = Field(description="When it was asked.")


class AdminChangeRequest(ChangeRequest):
    customer_id: UUID = Field(description="The customer.")


class ApproveChangeRequest(RequestModel):
    effective_date: IsoDate = Field(description="From this SAST day.")
    reason: ReasonText | None = Field(default=None, description="Kept in the audit log.")


class DeclineChangeRequest(RequestModel):
    reason: ReasonText = Field(description="Why; shown to the customer.")


class ContractCancelRequest(CancelRequest):
    waive_early_termination: bool = Field(
        strict=True,
        default=False,
        description="No early-termination charge (billing_admin and up; needs waiver_reason).",
    )
    waiver_reason: ReasonText | None = Field(default=None, description="Why the charge is waived.")


class EarlyTermination(ApiModel):
    term_end: date = Field(description="The fixed term's last day.")
    months_remaining: int = Field(
        description="Whole or part months from the last day of service to term end."
    )
    months_charged: int = Field(description="The months charged (at most EARLY_TERMINATION_MAX_MONTHS).")
    percent: str = Field(description="Percentage of the monthly price per month charged.")
    amount: Money = Field(description="The charge (0.00 when waived).")
    waived: bool = Field(description="A billing admin waived it.")
    waiver_reason: str | None = Field(description="Why.")
    charge_id: UUID | None = Field(description="The once-off charge on the final invoice.")


class ContractCancelResult(ServiceActionResult):
    early_termination: EarlyTermination | None = Field(
        description="Set when the service was cancelled inside its fixed term."
    )
