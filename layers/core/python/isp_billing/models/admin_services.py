"""Admin console: service lifecycle requests, the service as admins see it, and its audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from isp_billing.models.common import ApiModel, RequestModel, ServiceStatus, ServiceType
from isp_billing.models.lifecycle import SuspensionType
from isp_billing.money import Money

ProviderSyncStatus = Literal["in_sync", "pending_disable", "pending_enable"]

Reason = Field(min_length=1, max_length=500, description="Why; kept in the audit log.")
Notes = Field(default=None, max_length=2000, description="Free text for colleagues; kept in the audit log.")


class ActivateRequest(RequestModel):
    reason: str | None = Field(default=None, min_length=1, max_length=500, description="Optional.")
    notes: str | None = Notes
    activation_date: date | None = Field(
        default=None, description="The day the line went live (SAST); not in the future. Default: today."
    )


class SuspendRequest(RequestModel):
    reason: str = Reason
    notes: str | None = Notes
    suspension_type: SuspensionType = Field(
        description="Decides who may suspend and whether billing pauses (only customer_request pauses it)."
    )
    planned_end: date | None = Field(
        default=None, description="When the suspension should end; not before today."
    )


class ReactivateRequest(RequestModel):
    reason: str | None = Field(default=None, min_length=1, max_length=500, description="Optional.")
    notes: str | None = Notes


class CancelRequest(RequestModel):
    reason: str = Reason
    notes: str | None = Notes
    effective_date: date | None = Field(
        default=None,
        description="The last day of service (SAST), today or later. Default: the end of the current billing"
        " period (a month-to-month service needs a month's notice).",
    )


class Suspension(ApiModel):
    id: UUID
    suspension_type: SuspensionType
    pauses_billing: bool = Field(description="Derived from the type by the server.")
    reason: str | None
    notes: str | None
    suspended_at: datetime
    planned_end: date | None
    reactivated_at: datetime | None
    suspended_by: UUID | None
    reactivated_by: UUID | None


class AdminService(ApiModel):
    id: UUID
    customer_id: UUID
    account_number: str | None = None
    package_id: UUID
    package_name: str
    service_type: ServiceType
    status: ServiceStatus
    monthly_price: Money
    activation_date: date | None
    suspension_date: date | None
    cancellation_date: date | None
    cancellation_effective_date: date | None
    cancellation_reason: str | None
    interstellio_subscriber_id: str | None
    provider_sync_status: ProviderSyncStatus = Field(
        description="in_sync, or the change Interstellio still owes (retried by the retry-provider-sync job)."
    )
    provider_sync_not_before: date | None = Field(description="A scheduled change waits until this day.")
    provider_sync_attempts: int
    provider_sync_error: str | None = Field(description="The last failed attempt's error code.")
    provider_synced_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AdminServiceDetail(AdminService):
    open_suspension: Suspension | None = None


class AuditEntry(ApiModel):
    id: UUID
    service_id: UUID
    action: str
    previous_status: ServiceStatus | None
    new_status: ServiceStatus | None
    reason: str | None
    notes: str | None
    actor_type: Literal["admin", "system"]
    actor_admin_id: UUID | None
    actor_name: str | None
    actor_email: str | None
    request_id: str | None
    previous_data: dict[str, Any] | None
    new_data: dict[str, Any] | None
    details: dict[str, Any]
    created_at: datetime


class ServiceActionResult(ApiModel):
    service: AdminServiceDetail
    action: AuditEntry
    provider_pending: bool = Field(
        description="True when Interstellio's answer was uncertain (timeout, 5xx, unreadable): the change is"
        " recorded with a pending provider_sync_status and retried by the retry-provider-sync job (HTTP 202)."
    )
