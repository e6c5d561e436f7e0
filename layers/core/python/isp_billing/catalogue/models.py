"""API models of the catalogue: packages, their price history and price increases."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import Path
from pydantic import Field, StringConstraints

from isp_billing.api_models import ApiModel, IsoDate, RequestModel, ServiceType
from isp_billing.billing.models import MoneyIn
from isp_billing.money import Money
from isp_billing.text import SINGLE_LINE, ReasonText

PackageNameText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100), SINGLE_LINE
]
ProviderIdText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
]


class PackageTerms(ApiModel):
    effective_from: date = Field(description="The SAST day these terms apply from.")
    monthly_price: Money = Field(description="VAT-inclusive monthly price.")
    data_cap_gb: int | None = Field(description="Data cap in GB; null = uncapped.")
    out_of_bundle_price_per_gb: Money | None = Field(
        description="VAT-inclusive price per GB above the cap; null = none charged."
    )


class PackagePrice(PackageTerms):
    id: UUID = Field(description="The price history row.")
    reason: str | None = Field(description="Why the terms changed.")
    created_at: datetime = Field(description="When the row was entered.")


class CatalogueEntry(ApiModel):
    """A package as a customer sees it in the sellable catalogue."""

    id: UUID = Field(description="The package's id.")
    name: str = Field(description="The package's name.")
    service_type: ServiceType = Field(description="fibre, lte or wireless.")
    speed_down_mbps: int | None = Field(description="Download speed.")
    speed_up_mbps: int | None = Field(description="Upload speed.")
    monthly_price: Money = Field(description="VAT-inclusive monthly price today.")
    data_cap_gb: int | None = Field(description="Data cap in GB today; null = uncapped.")
    out_of_bundle_price_per_gb: Money | None = Field(description="Price per GB above the cap; null = none.")
    minimum_term_months: int = Field(description="Minimum term in months; 0 = month to month.")
    installation_fee: Money | None = Field(description="Default once-off installation charge.")
    equipment_fee: Money | None = Field(description="Default once-off equipment charge.")


class Package(CatalogueEntry):
    interstellio_service_id: str | None = Field(description="The Interstellio service a line is created in.")
    interstellio_profile_id: str | None = Field(description="The Interstellio profile a line is given.")
    is_sellable: bool = Field(description="Offered to new customers; false = retired.")
    retired_at: datetime | None = Field(description="When it was retired.")
    subscribers: int = Field(description="Services on it that are not cancelled.")
    upcoming: PackageTerms | None = Field(description="Terms taking effect later, if any.")
    created_at: datetime = Field(description="When it was created.")
    updated_at: datetime = Field(description="When it last changed.")


class PackageDetail(Package):
    prices: list[PackagePrice] = Field(description="The terms' history, newest first.")


class PackageCreate(RequestModel):
    name: PackageNameText = Field(description="Unique among sellable packages (case-insensitive).")
    service_type: ServiceType = Field(description="fibre, lte or wireless.")
    speed_down_mbps: int | None = Field(
        strict=True, default=None, ge=1, le=100_000, description="Download speed."
    )
    speed_up_mbps: int | None = Field(
        strict=True, default=None, ge=1, le=100_000, description="Upload speed."
    )
    monthly_price: MoneyIn = Field(description='VAT-inclusive monthly price, e.g. "699.00".')
    data_cap_gb: int | None = Field(
        strict=True, default=None, ge=1, le=1_000_000, description="null = uncapped."
    )
    out_of_bundle_price_per_gb: MoneyIn | None = Field(default=None, description="null = none charged.")
    interstellio_service_id: ProviderIdText | None = Field(default=None, description="Interstellio service.")
    interstellio_profile_id: ProviderIdText | None = Field(default=None, description="Interstellio profile.")
    minimum_term_months: int = Field(
        strict=True, default=0, ge=0, le=24, description="0 = month to month (CPA: 24 max)."
    )
    installation_fee: MoneyIn | None = Field(default=None, description="Default once-off installation.")
    equipment_fee: MoneyIn | None = Field(default=None, description="Default once-off equipment.")
    is_sellable: bool = Field(strict=True, default=True, description="Offered to new customers.")


class PackageUpdate(RequestModel):
    """Only the fields sent change. Price, cap and out-of-bundle price make a new history row from
    `effective_from` (default today); they never overwrite the terms of a day already in force."""

    name: PackageNameText | None = Field(default=None, description="New name.")
    speed_down_mbps: int | None = Field(
        strict=True, default=None, ge=1, le=100_000, description="Download speed."
    )
    speed_up_mbps: int | None = Field(
        strict=True, default=None, ge=1, le=100_000, description="Upload speed."
    )
    interstellio_service_id: ProviderIdText | None = Field(default=None, description="Interstellio service.")
    interstellio_profile_id: ProviderIdText | None = Field(default=None, description="Interstellio profile.")
    minimum_term_months: int | None = Field(
        strict=True, default=None, ge=0, le=24, description="For new sales."
    )
    installation_fee: MoneyIn | None = Field(default=None, description="Default once-off installation.")
    equipment_fee: MoneyIn | None = Field(default=None, description="Default once-off equipment.")
    is_sellable: bool | None = Field(strict=True, default=None, description="false retires the package.")
    monthly_price: MoneyIn | None = Field(default=None, description="New VAT-inclusive monthly price.")
    data_cap_gb: int | None = Field(
        strict=True, default=None, ge=1, le=1_000_000, description="null = uncapped."
    )
    out_of_bundle_price_per_gb: MoneyIn | None = Field(default=None, description="null = none charged.")
    effective_from: IsoDate | None = Field(default=None, description="For new terms: today or later.")
    reason: ReasonText | None = Field(default=None, description="Why the terms change (kept in history).")


class PriceIncreaseRequest(RequestModel):
    monthly_price: MoneyIn = Field(description="The new VAT-inclusive monthly price.")
    effective_date: IsoDate = Field(description="At least PRICE_CHANGE_NOTICE_DAYS after today (SAST).")
    reason: ReasonText = Field(description="Why; in the audit rows and the notice.")


class PriceIncreaseService(ApiModel):
    service_id: UUID = Field(description="The service.")
    customer_id: UUID = Field(description="Its customer.")
    old_price: Money = Field(description="Its monthly price before.")
    action_id: UUID | None = Field(description="The price_change audit row (null when left alone).")


class PriceIncreaseResult(ApiModel):
    package_id: UUID = Field(description="The package.")
    effective_date: date = Field(description="The day the new price applies from.")
    new_price: Money = Field(description="The new monthly price.")
    changed: list[PriceIncreaseService] = Field(description="Services whose price changes on the date.")
    left_alone: list[PriceIncreaseService] = Field(
        description="Services with their own negotiated price (or already at or above it): unchanged."
    )
    notices_queued: int = Field(description="Notice e-mails queued (one per affected customer).")


PackageId = Annotated[UUID, Path(description="The package's id (a service_packages row).")]
