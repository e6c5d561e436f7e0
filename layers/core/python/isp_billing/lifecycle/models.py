"""Admin console: service lifecycle requests, the service as admins see it, and its audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, StrictBool

from isp_billing.api_models import ApiModel, IsoDate, RequestModel, ServiceStatus, ServiceType
from isp_billing.lifecycle.rules import SuspensionType
from isp_billing.money import Money
from isp_billing.text import NotesText, ReasonText

ProviderSyncStatus = Literal["in_sync", "pending_disable", "pending_enable"]

Reason = Field(description="Why; kept in the audit log.")
Notes = Field(default=None, description="Free text for colleagues; kept in the audit log.")


class ActivateRequest(RequestModel):
    reason: ReasonText | None = Field(default=None, description="Optional.")
    notes: NotesText | None = Notes
    activation_date: IsoDate | None = Field(
        default=None,
        description="The day the line went live (SAST); not in the future. Default: today. The next invoice"
        " bills every day from it not billed yet. More than BACKDATED_ACTIVATION_MAX_DAYS (default 62) days"
        " back it needs confirm_backdated from a billing admin.",
    )
    confirm_backdated: StrictBool = Field(
        default=False,
        description="A billing admin confirms an activation date further back than the setting allows.",
    )


class SuspendRequest(RequestModel):
    reason: ReasonText = Reason
    notes: NotesText | None = Notes
    suspension_type: SuspensionType = Field(
        description="Decides who may suspend and whether billing pauses (only customer_request pauses it)."
    )
    planned_end: IsoDate | None = Field(
        default=None, description="When the suspension should end; not before today."
    )


class ReactivateRequest(RequestModel):
    reason: ReasonText | None = Field(default=None, description="Optional.")
    notes: NotesText | None = Notes


class CancelRequest(RequestModel):
    reason: ReasonText = Reason
    notes: NotesText | None = Notes
    effective_date: IsoDate | None = Field(
        default=None,
        description="The last day of service (SAST), today or later and at most CANCELLATION_MAX_DAYS_AHEAD"
        " (default 93) days ahead. Default: the end of the current billing period (a month-to-month service"
        " needs a month's notice).",
    )


class EndNowRequest(RequestModel):
    """End the service today and disable its line now, cancelled already or not."""

    reason: ReasonText = Reason
    notes: NotesText | None = Notes


class Suspension(ApiModel):
    id: UUID = Field(description="The suspension record's id.")
    suspension_type: SuspensionType = Field(
        description="Why the service is suspended; decides who may lift it and whether billing pauses"
        " (only customer_request pauses it)."
    )
    pauses_billing: bool = Field(description="Derived from the type by the server.")
    reason: str | None = Field(description="Why it was suspended, as the admin (or the system) wrote it.")
    notes: str | None = Field(description="Free text for colleagues, if any.")
    suspended_at: datetime = Field(description="When the suspension began (ISO 8601 instant with offset).")
    planned_end: date | None = Field(
        description="The SAST date the suspension should end, if one was given; it is not lifted"
        " automatically."
    )
    reactivated_at: datetime | None = Field(
        description="When it was lifted (ISO 8601 instant); null while the suspension is open."
    )
    suspended_by: UUID | None = Field(
        description="The admin (admin_users.id) who suspended; null when the system did (the overdue job)."
    )
    reactivated_by: UUID | None = Field(
        description="The admin (admin_users.id) who lifted it; null while open or when the system lifted it."
    )


class AdminService(ApiModel):
    id: UUID = Field(description="The service's id (customer_services.id).")
    customer_id: UUID = Field(description="The customer who holds the service.")
    account_number: str | None = Field(
        default=None, description="The customer's account number, `CUS-YYYY-NNNNN` (their payment reference)."
    )
    package_id: UUID = Field(description="The catalogue package the service was sold from.")
    package_name: str = Field(description="The package's name as sold (copied onto the service).")
    service_type: ServiceType = Field(description="The kind of line: fibre, lte or wireless.")
    status: ServiceStatus = Field(
        description="Lifecycle state: pending (not yet live), active, suspended, or cancelled (terminal)."
    )
    monthly_price: Money = Field(
        description="What this customer pays a month for the service: ZAR, VAT inclusive, two decimals as a"
        ' string (e.g. "799.00").'
    )
    activation_date: date | None = Field(description="The SAST date the line went live; null while pending.")
    suspension_date: date | None = Field(
        description="The SAST date of the current suspension; null when the service is not suspended."
    )
    cancellation_date: date | None = Field(
        description="The SAST date the cancellation was requested; null unless cancelled."
    )
    cancellation_effective_date: date | None = Field(
        description="The last day of service (SAST): billing stops after it; null unless cancelled."
    )
    cancellation_reason: str | None = Field(description="Why it was cancelled, as the admin wrote it.")
    interstellio_subscriber_id: str | None = Field(
        description="The subscriber's id at Interstellio, the network provider (the legacy connection_id);"
        " null when the service has none yet."
    )
    provider_sync_status: ProviderSyncStatus = Field(
        description="in_sync, or the change Interstellio still owes (retried by the retry-provider-sync job)."
    )
    provider_sync_not_before: date | None = Field(description="A scheduled change waits until this day.")
    provider_sync_attempts: int = Field(
        description="How many times the pending provider change has been tried; 0 when in sync."
    )
    provider_sync_error: str | None = Field(description="The last failed attempt's error code.")
    provider_synced_at: datetime | None = Field(
        description="When Interstellio confirmed the last change (ISO 8601 instant); null when that change"
        " needed no provider call or is still pending."
    )
    created_at: datetime = Field(description="When the service record was created (ISO 8601 instant).")
    updated_at: datetime = Field(description="When the service record last changed (ISO 8601 instant).")


class AdminServiceDetail(AdminService):
    open_suspension: Suspension | None = Field(
        default=None, description="The suspension in force while the service is suspended; null otherwise."
    )


class AuditEntry(ApiModel):
    id: UUID = Field(description="The audit entry's id.")
    service_id: UUID = Field(description="The service the action was taken on.")
    action: str = Field(
        description="What was done: order, activate, suspend, reactivate, cancel, end_now, price_change,"
        " package_change, provider_retry or usage_correction."
    )
    previous_status: ServiceStatus | None = Field(description="The service's status before the action.")
    new_status: ServiceStatus | None = Field(
        description="The service's status after the action (the same as before when it failed or changed"
        " no status)."
    )
    reason: str | None = Field(description="Why, as the actor gave it (always present for admin actions).")
    notes: str | None = Field(description="Free text for colleagues, if any.")
    actor_type: Literal["admin", "system"] = Field(
        description="admin: a person in the admin console; system: a scheduled job."
    )
    actor_admin_id: UUID | None = Field(description="The acting admin (admin_users.id); null for the system.")
    actor_name: str | None = Field(description="The acting admin's full name; null for the system.")
    actor_email: str | None = Field(description="The acting admin's email; null for the system.")
    request_id: str | None = Field(
        description="The id of the API request (or job run) that took the action, to find it in the logs."
    )
    previous_data: dict[str, Any] | None = Field(
        description="The service's lifecycle fields before the action (status, dates, price, provider sync)."
    )
    new_data: dict[str, Any] | None = Field(description="The same fields after the action.")
    details: dict[str, Any] = Field(
        description="What else happened, e.g. the Interstellio outcome or the suspension's type and id;"
        " an empty object when nothing."
    )
    created_at: datetime = Field(description="When the action was recorded (ISO 8601 instant).")


class ServiceActionResult(ApiModel):
    service: AdminServiceDetail = Field(description="The service as it is after the action.")
    action: AuditEntry = Field(description="The audit log entry the action wrote.")
    provider_pending: bool = Field(
        description="True when Interstellio's answer was uncertain (timeout, 5xx, unreadable): the change is"
        " recorded with a pending provider_sync_status and retried by the retry-provider-sync job (HTTP 202)."
    )
