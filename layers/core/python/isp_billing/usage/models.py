"""Usage API models: the customer's usage views, the admin's manual correction, the usage webhooks.

Megabytes are decimals with three places, as strings on the wire ("1024.500") like money: JSON numbers are
floats to most clients, and a figure that is summed into a cap percentage should not drift.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

from isp_billing.api_models import ApiModel, IsoDate, RequestModel, ServiceStatus
from isp_billing.text import ReasonText, TokenText

_MB_TEXT = re.compile(r"^\d{1,11}(\.\d{1,3})?$")


def format_mb(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.001')):.3f}"


def _mb_text(value: Any) -> Decimal:
    if not isinstance(value, str) or not _MB_TEXT.match(value):
        raise ValueError('must be a string of megabytes with up to three decimals, e.g. "1024.500"')
    return Decimal(value)


Megabytes = Annotated[
    Decimal,
    PlainSerializer(format_mb, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d+\.\d{3}$", "examples": ["1024.500"]}),
]
MegabytesIn = Annotated[
    Decimal,
    BeforeValidator(_mb_text),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,11}(\.\d{1,3})?$", "examples": ["1024.500"]}),
]
Percent = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["81.25"]}),
]
UsageSource = Literal["interstellio", "manual"]


class UsageTotals(ApiModel):
    upload_mb: Megabytes = Field(description="Upload (from the subscriber) in MB (KB / 1024).")
    download_mb: Megabytes = Field(description="Download (to the subscriber) in MB.")
    total_mb: Megabytes = Field(description="Upload plus download in MB.")


class UsageDay(UsageTotals):
    usage_date: date = Field(description="The SAST day.")
    source: UsageSource = Field(
        description="`manual` where an admin corrected the day (it replaces the sync)."
    )


class ServicePeriodUsage(ApiModel):
    service_id: UUID = Field(description="The service's id.")
    package_name: str = Field(description="The package's name as sold.")
    status: ServiceStatus = Field(description="The service's lifecycle state.")
    data_cap_gb: int | None = Field(description="The package's monthly data cap in GB; null when uncapped.")
    percent_used: Percent | None = Field(
        description="Period total over the cap (1 GB = 1024 MB); null uncapped."
    )
    totals: UsageTotals = Field(description="The period so far.")
    days: list[UsageDay] = Field(description="Each day of the period with usage, oldest first.")


class CurrentUsage(ApiModel):
    period_start: date = Field(description="First day of the current billing period (SAST).")
    period_end: date = Field(description="Last day of the current billing period.")
    last_synced_at: datetime | None = Field(description="When usage was last read from Interstellio.")
    services: list[ServicePeriodUsage] = Field(
        description="Each of the customer's services that is not pending."
    )


class UsageHistoryRow(UsageTotals):
    service_id: UUID = Field(description="The service's id.")
    usage_date: date | None = Field(default=None, description="The SAST day (granularity=day).")
    month: date | None = Field(
        default=None, description="The calendar month's first day (granularity=month)."
    )
    source: UsageSource | None = Field(default=None, description="granularity=day: which row the day shows.")
    days: int | None = Field(default=None, description="granularity=month: days with usage in the month.")


class UsageHistory(ApiModel):
    start_date: date = Field(description="First SAST day of the range.")
    end_date: date = Field(description="Last SAST day of the range.")
    granularity: Literal["day", "month"] = Field(description="Rows per day (paged) or per calendar month.")
    items: list[UsageHistoryRow] = Field(description="Oldest first, then by service.")
    next_cursor: str | None = Field(description="granularity=day: pass as `cursor` for the next page.")


class UsageCorrectionRequest(RequestModel):
    usage_date: IsoDate = Field(
        description="The SAST day corrected: not in the future, and within the service's active life (from "
        "its activation date to its cancellation effective date, both counted); a pending service has none."
    )
    upload_mb: MegabytesIn = Field(description="The day's upload in MB, a decimal string.")
    download_mb: MegabytesIn = Field(description="The day's download in MB, a decimal string.")
    reason: ReasonText = Field(description="Why the day is corrected (kept in the service's audit log).")


class UsageCorrectionResult(ApiModel):
    service_id: UUID = Field(description="The service corrected.")
    usage_date: date = Field(description="The SAST day corrected.")
    upload_mb: Megabytes = Field(description="The manual upload in MB.")
    download_mb: Megabytes = Field(description="The manual download in MB.")
    total_mb: Megabytes = Field(description="Upload plus download in MB.")
    source: UsageSource = Field(description="Always `manual`.")
    audit_log_id: UUID = Field(description="The service_action_log row (`usage_correction`).")
    cap_alerts_queued: int = Field(description="Data-cap alerts the correction queued (0 or more).")


# --- the usage push webhook (our own format; README "Usage push webhook") ------------------------------


UsageUnit = Literal["KB", "MB"]
SubscriberIdText = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:@-]+$")]


class PushedUsageRecord(RequestModel):
    subscriber_id: SubscriberIdText = Field(description="The Interstellio subscriber id of the service.")
    usage_date: IsoDate = Field(description="The SAST day the figures belong to.")
    upload: MegabytesIn = Field(description="Upload in the batch's `unit` (a decimal string).")
    download: MegabytesIn = Field(description="Download in the batch's `unit`.")


class UsagePushBatch(RequestModel):
    unit: UsageUnit = Field(description="KB (1024 per MB, as the sync converts) or MB.")
    records: list[PushedUsageRecord] = Field(min_length=1, max_length=5000)


class UsagePushReceipt(ApiModel):
    status: Literal["applied", "duplicate"] = Field(
        description="`duplicate`: this signed batch was applied before."
    )
    rows_written: int = Field(description="Usage rows inserted or updated.")
    unknown_subscribers: int = Field(description="Subscribers no service is linked to (validation errors).")
    cap_alerts_queued: int = Field(description="Data-cap alerts the batch queued.")


class MeterWebhookReceipt(ApiModel):
    status: Literal["recorded", "duplicate", "unknown_subscriber"] = Field(
        description="`duplicate`: this service's meter month was recorded before."
    )
    cap_alerts_queued: int = Field(description="Data-cap alerts the reading queued.")


WebhookToken = TokenText
