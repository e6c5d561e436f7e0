"""Admin service lifecycle: activate, suspend, reactivate, cancel, with the audit log and Interstellio.

Each action, in the admin's one transaction:

1. checks the admin's role against the matrix in `models/lifecycle.py`;
2. locks the service row, so a second admin acting at the same time waits and is then checked against the
   first one's result;
3. checks the transition against the current (locked) status: 409 with the current status if illegal;
4. for suspend/reactivate, PATCHes the subscriber's `enabled` flag at Interstellio while holding the lock;
5. writes the status, the audit row and the suspension row (opened or closed); they commit together.

Provider outcomes: applied → in_sync. Certainly not applied (a 4xx answer, 429 after retries, a refusal to
apply) → nothing changes, the attempt is recorded in its own small transaction, 502. Maybe applied (timeout,
connection lost, 5xx after retries, an unreadable 200) → the change commits with a pending
provider_sync_status that the retry-provider-sync job re-applies until it succeeds (202). So the database
never says suspended while the line may be enabled without a pending state and a retry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing import db
from isp_billing.auth import AdminPrincipal
from isp_billing.billing_periods import days_in_period, period_containing
from isp_billing.clock import sast_now, sast_today
from isp_billing.db import Connection
from isp_billing.errors import NotFound, ProviderError, ValidationFailed
from isp_billing.models.admin_services import (
    ActivateRequest,
    AdminService,
    AdminServiceDetail,
    AuditEntry,
    CancelRequest,
    ReactivateRequest,
    ServiceActionResult,
    SuspendRequest,
    Suspension,
)
from isp_billing.models.lifecycle import ServiceAction, next_status, require_permission
from isp_billing.money import format_money, pro_rata
from isp_billing.observability import logger
from isp_billing.pagination import Page, decode_cursor, page_of
from isp_billing.providers.interstellio import SubscriberProvider
from isp_billing.repositories import admin_services, billing_lookups, service_actions, service_suspensions

# Provider error codes after which the PATCH may have been applied: the change commits as pending.
MAYBE_APPLIED_CODES = frozenset({"timeout", "unreachable", "unavailable", "malformed"})
DEFAULT_REASONS: dict[ServiceAction, str] = {"activate": "Activated", "reactivate": "Reactivated"}


@dataclass
class ProviderOutcome:
    sync_status: str
    pending: bool
    details: dict[str, Any] = field(default_factory=dict)


# --- reading ----------------------------------------------------------------------------------------------


def list_services(
    conn: Connection,
    *,
    status: str | None,
    customer_id: UUID | None,
    package_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> Page[AdminService]:
    after = decode_cursor(cursor, datetime.fromisoformat, UUID) if cursor else None
    rows = admin_services.list_services(
        conn, status=status, customer_id=customer_id, package_id=package_id, after=after, limit=limit
    )
    items, next_cursor = page_of(rows, limit, key=lambda row: (row["created_at"], row["id"]))
    return Page[AdminService](items=[AdminService.model_validate(r) for r in items], next_cursor=next_cursor)


def get_service(conn: Connection, service_id: UUID) -> AdminServiceDetail:
    row = admin_services.get_service(conn, service_id)
    if row is None:
        raise NotFound("No such service.")
    suspension = service_suspensions.open_for_service(conn, service_id)
    return AdminServiceDetail.model_validate(
        {**row, "open_suspension": Suspension.model_validate(suspension) if suspension else None}
    )


def audit_log(conn: Connection, service_id: UUID, *, cursor: str | None, limit: int) -> Page[AuditEntry]:
    if admin_services.get_service(conn, service_id) is None:
        raise NotFound("No such service.")
    after = decode_cursor(cursor, datetime.fromisoformat, UUID) if cursor else None
    rows = service_actions.list_for_service(conn, service_id, after=after, limit=limit)
    items, next_cursor = page_of(rows, limit, key=lambda row: (row["created_at"], row["id"]))
    return Page[AuditEntry](items=[AuditEntry.model_validate(r) for r in items], next_cursor=next_cursor)


# --- actions ----------------------------------------------------------------------------------------------


def activate(
    conn: Connection,
    admin: AdminPrincipal,
    service_id: UUID,
    request: ActivateRequest | None,
    request_id: str,
) -> ServiceActionResult:
    request = request or ActivateRequest()
    require_permission(admin.role, "activate")
    today = sast_today()
    activation_date = request.activation_date or today
    if activation_date > today:
        raise ValidationFailed("activation_date: must not be in the future", field="activation_date")
    before = _lock(conn, service_id)
    new_status = next_status("activate", before["status"])
    after = admin_services.update_service(
        conn, service_id, {"status": new_status, "activation_date": activation_date}
    )
    # Activation does not touch Interstellio: provisioning the subscriber is outside this API.
    details = {"outcome": "applied", "provider": {"outcome": "not_called"}}
    return _log_and_result(
        conn, admin, "activate", before, after, request.reason, request.notes, request_id, details
    )


def suspend(
    conn: Connection,
    admin: AdminPrincipal,
    service_id: UUID,
    request: SuspendRequest,
    request_id: str,
    provider: SubscriberProvider,
) -> ServiceActionResult:
    require_permission(admin.role, "suspend", request.suspension_type)
    today = sast_today()
    if request.planned_end is not None and request.planned_end < today:
        raise ValidationFailed("planned_end: must be today or later", field="planned_end")
    before = _lock(conn, service_id)
    new_status = next_status("suspend", before["status"])
    outcome = _set_enabled_at_provider(
        admin, before, "suspend", False, request.reason, request.notes, request_id, provider
    )
    after = admin_services.update_service(
        conn, service_id, {"status": new_status, "suspension_date": today, **_sync_columns(outcome)}
    )
    suspension = service_suspensions.open_suspension(
        conn,
        service_id=service_id,
        customer_id=before["customer_id"],
        suspension_type=request.suspension_type,
        reason=request.reason,
        notes=request.notes,
        planned_end=request.planned_end,
        suspended_by=admin.admin_id,
    )
    details = {
        "outcome": "provider_pending" if outcome.pending else "applied",
        "suspension_id": str(suspension["id"]),
        "suspension_type": request.suspension_type,
        "pauses_billing": suspension["pauses_billing"],
        "planned_end": request.planned_end,
        "provider": outcome.details,
    }
    return _log_and_result(
        conn,
        admin,
        "suspend",
        before,
        after,
        request.reason,
        request.notes,
        request_id,
        details,
        outcome.pending,
    )


def reactivate(
    conn: Connection,
    admin: AdminPrincipal,
    service_id: UUID,
    request: ReactivateRequest | None,
    request_id: str,
    provider: SubscriberProvider,
) -> ServiceActionResult:
    request = request or ReactivateRequest()
    require_permission(admin.role, "reactivate")  # any admin role; the suspension's type is checked below
    before = _lock(conn, service_id)
    new_status = next_status("reactivate", before["status"])
    suspension = service_suspensions.open_for_service(conn, service_id)
    require_permission(admin.role, "reactivate", suspension["suspension_type"] if suspension else None)
    reason = request.reason or DEFAULT_REASONS["reactivate"]
    outcome = _set_enabled_at_provider(
        admin, before, "reactivate", True, reason, request.notes, request_id, provider
    )
    after = admin_services.update_service(
        conn, service_id, {"status": new_status, "suspension_date": None, **_sync_columns(outcome)}
    )
    closed = (
        service_suspensions.close_suspension(conn, suspension["id"], admin.admin_id) if suspension else None
    )
    details = {
        "outcome": "provider_pending" if outcome.pending else "applied",
        "suspension_id": str(closed["id"]) if closed else None,
        "suspension_type": closed["suspension_type"] if closed else None,
        "provider": outcome.details,
    }
    return _log_and_result(
        conn, admin, "reactivate", before, after, reason, request.notes, request_id, details, outcome.pending
    )


def cancel(
    conn: Connection, admin: AdminPrincipal, service_id: UUID, request: CancelRequest, request_id: str
) -> ServiceActionResult:
    """Status cancelled now; the line is disabled by the retry-provider-sync job the day after the effective
    date (the last day of service). The audit row carries what the billing run needs for the final pro-rata
    credit or charge."""
    require_permission(admin.role, "cancel")
    today = sast_today()
    if request.effective_date is not None and request.effective_date < today:
        raise ValidationFailed("effective_date: must be today or later", field="effective_date")
    before = _lock(conn, service_id)
    new_status = next_status("cancel", before["status"])
    billing_day = billing_lookups.billing_day(conn, before["customer_id"]) or 1
    current_start, current_end = period_containing(today, billing_day)
    activation_date: date | None = before["activation_date"]
    # Never billed (pending): nothing paid to run out, so it ends today unless told otherwise.
    effective = request.effective_date or (current_end if activation_date is not None else today)
    if activation_date is not None and effective < activation_date:
        raise ValidationFailed(
            "effective_date: must not be before the activation date", field="effective_date"
        )
    final_period = _final_period(conn, before, billing_day, effective)
    changes: dict[str, Any] = {
        "status": new_status,
        "cancellation_date": today,
        "cancellation_effective_date": effective,
        "cancellation_reason": request.reason,
        **_cancellation_sync(before, effective),
    }
    after = admin_services.update_service(conn, service_id, changes)
    open_suspension = service_suspensions.open_for_service(conn, service_id)
    details = {
        "outcome": "applied",
        "cancellation": {
            "effective_date": effective,
            "billing_day": billing_day,
            "monthly_price": format_money(before["monthly_price"]),
            "activation_date": activation_date,
            "current_period": {"start": current_start, "end": current_end},
            "final_period": final_period,
            "open_suspension_id": str(open_suspension["id"]) if open_suspension else None,
            "open_suspension_pauses_billing": open_suspension["pauses_billing"] if open_suspension else None,
        },
        "provider": {
            "outcome": "scheduled" if after["provider_sync_status"] != "in_sync" else "not_needed",
            "sync_status": after["provider_sync_status"],
            "not_before": after["provider_sync_not_before"],
        },
    }
    return _log_and_result(
        conn, admin, "cancel", before, after, request.reason, request.notes, request_id, details
    )


# --- helpers ----------------------------------------------------------------------------------------------


def _lock(conn: Connection, service_id: UUID) -> dict[str, Any]:
    row = admin_services.lock_service(conn, service_id)
    if row is None:
        raise NotFound("No such service.")
    return row


def _set_enabled_at_provider(
    admin: AdminPrincipal,
    before: dict[str, Any],
    action: ServiceAction,
    enabled: bool,
    reason: str,
    notes: str | None,
    request_id: str,
    provider: SubscriberProvider,
) -> ProviderOutcome:
    subscriber_id = before["interstellio_subscriber_id"]
    if not subscriber_id:
        return ProviderOutcome("in_sync", False, {"outcome": "no_subscriber"})
    pending_status = "pending_enable" if enabled else "pending_disable"
    try:
        provider.set_subscriber_enabled(subscriber_id, enabled)
    except ProviderError as error:
        facts = _error_facts(error)
        if facts["code"] in MAYBE_APPLIED_CODES:
            logger.warning(
                "provider outcome uncertain; change recorded as pending",
                extra={"service_id": str(before["id"]), "code": facts["code"]},
            )
            return ProviderOutcome(
                pending_status, True, {"outcome": "uncertain", "enabled": enabled, **facts}
            )
        attempt_id = _record_refused_attempt(admin, before, action, enabled, reason, notes, request_id, facts)
        raise ProviderError(
            f"Interstellio refused to {'enable' if enabled else 'disable'} the line; nothing was changed.",
            current_status=before["status"],
            action_id=str(attempt_id),
            **facts,
        ) from None
    return ProviderOutcome("in_sync", False, {"outcome": "applied", "enabled": enabled})


def _error_facts(error: ProviderError) -> dict[str, Any]:
    return {
        "provider": "interstellio",
        "code": error.extra.get("code", "unknown"),
        "http_status": error.extra.get("http_status"),
        "provider_request_id": error.extra.get("provider_request_id"),
    }


def _record_refused_attempt(
    admin: AdminPrincipal,
    before: dict[str, Any],
    action: ServiceAction,
    enabled: bool,
    reason: str,
    notes: str | None,
    request_id: str,
    facts: dict[str, Any],
) -> UUID:
    """The refused attempt, committed on a connection of its own: the admin's transaction rolls back.

    It only references the locked service row by foreign key, which FOR NO KEY UPDATE lets through.
    """
    with db.connect() as side, side.transaction():
        side.execute("select set_config('role', 'service_role', true)")
        return service_actions.insert(
            side,
            service_id=before["id"],
            customer_id=before["customer_id"],
            action=action,
            previous_status=before["status"],
            new_status=before["status"],
            reason=reason,
            notes=notes,
            actor_type="admin",
            actor_admin_id=admin.admin_id,
            request_id=request_id,
            previous_data=_snapshot(before),
            new_data=_snapshot(before),
            details={
                "outcome": "provider_failed",
                "provider": {"outcome": "refused", "enabled": enabled, **facts},
            },
        )


def _sync_columns(outcome: ProviderOutcome) -> dict[str, Any]:
    if outcome.pending:
        return {
            "provider_sync_status": outcome.sync_status,
            "provider_sync_not_before": None,
            "provider_sync_attempts": 1,
            "provider_sync_error": outcome.details.get("code"),
            "provider_sync_requested_at": sast_now(),
        }
    return {
        "provider_sync_status": "in_sync",
        "provider_sync_not_before": None,
        "provider_sync_attempts": 0,
        "provider_sync_error": None,
        "provider_synced_at": sast_now() if outcome.details.get("outcome") == "applied" else None,
    }


def _cancellation_sync(before: dict[str, Any], effective: date) -> dict[str, Any]:
    """What Interstellio still owes after a cancellation (see the retry-provider-sync job)."""
    if not before["interstellio_subscriber_id"]:
        return {}
    current = before["provider_sync_status"]
    if before["status"] == "suspended":
        # The line is already disabled, or a disable is pending: due now either way.
        return {} if current == "in_sync" else {"provider_sync_not_before": None}
    if current == "pending_enable":
        # An uncertain reactivation is still owed first; the job schedules the disable after it succeeds.
        return {"provider_sync_not_before": None}
    return {
        "provider_sync_status": "pending_disable",
        "provider_sync_not_before": effective + timedelta(days=1),
        "provider_sync_requested_at": sast_now(),
    }


def _final_period(
    conn: Connection, before: dict[str, Any], billing_day: int, effective: date
) -> dict[str, Any]:
    """The billing period holding the last day of service, and the figures of its pro-rata adjustment."""
    start, end = period_containing(effective, billing_day)
    days = days_in_period(start, end)
    activation_date: date | None = before["activation_date"]
    first_day = max(start, activation_date) if activation_date else None
    days_used = (effective - first_day).days + 1 if first_day and first_day <= effective else 0
    unused_days = (end - effective).days
    invoice = billing_lookups.recurring_invoice_for_period(conn, before["customer_id"], start)
    price: Decimal = before["monthly_price"]
    return {
        "start": start,
        "end": end,
        "days_in_period": days,
        "days_used": days_used,
        "unused_days": unused_days,
        "unused_days_amount": format_money(pro_rata(price, unused_days, days)),
        "invoiced": invoice is not None,
        "invoice_id": str(invoice["id"]) if invoice else None,
        "invoice_number": invoice["invoice_number"] if invoice else None,
    }


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in admin_services.SNAPSHOT_COLUMNS if key in row}


def _log_and_result(
    conn: Connection,
    admin: AdminPrincipal,
    action: ServiceAction,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str | None,
    notes: str | None,
    request_id: str,
    details: dict[str, Any],
    provider_pending: bool = False,
) -> ServiceActionResult:
    entry_id = service_actions.insert(
        conn,
        service_id=before["id"],
        customer_id=before["customer_id"],
        action=action,
        previous_status=before["status"],
        new_status=after["status"],
        reason=reason or DEFAULT_REASONS.get(action),
        notes=notes,
        actor_type="admin",
        actor_admin_id=admin.admin_id,
        request_id=request_id,
        previous_data=_snapshot(before),
        new_data=_snapshot(after),
        details=details,
    )
    logger.info(
        "service lifecycle action",
        extra={"service_id": str(before["id"]), "action": action, "new_status": after["status"]},
    )
    entry = service_actions.get_entry(conn, entry_id)
    return ServiceActionResult(
        service=get_service(conn, before["id"]),
        action=AuditEntry.model_validate(entry),
        provider_pending=provider_pending,
    )
