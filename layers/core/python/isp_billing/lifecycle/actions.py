"""Admin service lifecycle: activate, suspend, reactivate, cancel, end now; the audit log; Interstellio.

Each action, in the admin's transaction:

1. checks the admin's role against the matrix in `lifecycle/rules.py`;
2. locks the service row, so a second admin acting at the same time waits and is then checked against the
   first one's result;
3. checks the transition against the current (locked) status: 409 with the current status if illegal;
4. stages every write (status, suspension row, and the audit row checked in a rolled-back savepoint), so
   nothing the database would refuse is found after a provider call;
5. for suspend/reactivate/end-now, commits the intent on a side connection and PATCHes the subscriber's
   `enabled` flag at Interstellio while holding the lock (`lifecycle_provider`);
6. writes the outcome's sync columns and the audit row; they commit with the change and settle the intent.

Provider outcomes: applied → in_sync. Certainly not applied (a 4xx answer, 429 after retries, a refusal to
apply) → nothing changes, the attempt is recorded in its own small transaction, 502. Maybe applied (timeout,
connection lost, 5xx after retries, an unreadable 200) → the change commits with a pending
provider_sync_status that the retry-provider-sync job re-applies until it succeeds (202). The process dying
after the call leaves an unsettled intent, which retry-provider-sync reconciles.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing.auth import AdminPrincipal
from isp_billing.billing import lookups_sql as billing_lookups
from isp_billing.billing import run_sql as billing_run_sql
from isp_billing.billing.periods import days_in_period, period_containing
from isp_billing.clock import sast_now, sast_today
from isp_billing.db import Connection
from isp_billing.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from isp_billing.lifecycle import audit_sql as service_actions
from isp_billing.lifecycle import provider as lifecycle_provider
from isp_billing.lifecycle import services_sql as admin_services
from isp_billing.lifecycle import suspensions_sql as service_suspensions
from isp_billing.lifecycle.models import (
    ActivateRequest,
    AuditEntry,
    CancelRequest,
    EndNowRequest,
    ReactivateRequest,
    ServiceActionResult,
    SuspendRequest,
)
from isp_billing.lifecycle.queries import get_service
from isp_billing.lifecycle.rules import ServiceAction, next_status, require_permission
from isp_billing.money import format_money, pro_rata
from isp_billing.observability import logger
from isp_billing.providers.interstellio import SubscriberProvider
from isp_billing.settings import get_settings

DEFAULT_REASONS: dict[ServiceAction, str] = {"activate": "Activated", "reactivate": "Reactivated"}


# --- actions ----------------------------------------------------------------------------------------------


def activate(
    conn: Connection,
    admin: AdminPrincipal,
    service_id: UUID,
    request: ActivateRequest | None,
    request_id: str,
    provider_details: dict[str, Any] | None = None,
) -> ServiceActionResult:
    """pending → active. Provisioning the line (creating the Interstellio subscriber) is the orders
    capability's, which calls this after storing the subscriber's id and passes what it did as
    `provider_details` for the audit row."""
    request = request or ActivateRequest()
    require_permission(admin.role, "activate")
    today = sast_today()
    activation_date = request.activation_date or today
    if activation_date > today:
        raise ValidationFailed("activation_date: must not be in the future", field="activation_date")
    _check_backdating(admin, activation_date, today, request.confirm_backdated)
    before = _lock(conn, service_id)
    new_status = next_status("activate", before["status"])
    after = admin_services.update_service(
        conn, service_id, {"status": new_status, "activation_date": activation_date}
    )
    # `recorded_on`: the billing run bills the periods before it that a backdated activation date reaches.
    details = {
        "outcome": "applied",
        "provider": provider_details or {"outcome": "not_called"},
        "recorded_on": str(today),
    }
    if request.confirm_backdated:
        details["backdated_confirmed_by"] = str(admin.admin_id)
    return _log_and_result(
        conn, admin, "activate", before, after, request.reason, request.notes, request_id, details
    )


def _check_backdating(admin: AdminPrincipal, activation_date: date, today: date, confirmed: bool) -> None:
    """Further back than the setting: 422 unless confirmed, and only a billing admin may confirm (403)."""
    limit = get_settings().backdated_activation_max_days
    if confirmed and admin.role not in ("super_admin", "billing_admin"):
        raise Forbidden("Only a billing admin may confirm a backdated activation.")
    if (today - activation_date).days > limit and not confirmed:
        raise ValidationFailed(
            f"activation_date: more than {limit} days ago; every day from it will be billed, so a billing"
            " admin must confirm it with confirm_backdated: true",
            field="activation_date",
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
    # Every write is staged before Interstellio is called; the provider's outcome only adds sync columns.
    staged = admin_services.update_service(conn, service_id, {"status": new_status, "suspension_date": today})
    suspension = service_suspensions.open_suspension(
        conn,
        service_id=service_id,
        customer_id=before["customer_id"],
        suspension_type=request.suspension_type,
        reason=request.reason,
        notes=request.notes,
        planned_end=request.planned_end,
        suspended_by=admin.audited_admin_id,
    )
    attempt = lifecycle_provider.Attempt(admin, before, "suspend", request.reason, request.notes, request_id)
    lifecycle_provider.check_audit_row(conn, attempt, staged)
    outcome = lifecycle_provider.set_enabled(conn, attempt, False, provider)
    after = admin_services.update_service(conn, service_id, lifecycle_provider.sync_columns(outcome))
    lifecycle_provider.settle(conn, outcome)
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
    staged = admin_services.update_service(conn, service_id, {"status": new_status, "suspension_date": None})
    closed = (
        service_suspensions.close_suspension(conn, suspension["id"], admin.audited_admin_id)
        if suspension
        else None
    )
    attempt = lifecycle_provider.Attempt(admin, before, "reactivate", reason, request.notes, request_id)
    lifecycle_provider.check_audit_row(conn, attempt, staged)
    outcome = lifecycle_provider.set_enabled(conn, attempt, True, provider)
    after = admin_services.update_service(conn, service_id, lifecycle_provider.sync_columns(outcome))
    lifecycle_provider.settle(conn, outcome)
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
    conn: Connection,
    admin: AdminPrincipal,
    service_id: UUID,
    request: CancelRequest,
    request_id: str,
    more_details: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None,
) -> ServiceActionResult:
    """Status cancelled now; the line is disabled by the retry-provider-sync job the day after the effective
    date (the last day of service). The audit row carries what the billing run needs for the final pro-rata
    credit or charge, and what `more_details(before, after)` adds (the fixed term's early-termination
    charge), computed in the same transaction once the effective date is known."""
    require_permission(admin.role, "cancel")
    today = sast_today()
    if request.effective_date is not None:
        _check_effective_date(request.effective_date, today)
    before = _lock(conn, service_id)
    new_status = next_status("cancel", before["status"])
    billing_day = billing_lookups.billing_day(conn, before["customer_id"]) or 1
    _, current_end = period_containing(today, billing_day)
    activation_date: date | None = before["activation_date"]
    # Never billed (pending): nothing paid to run out, so it ends today unless told otherwise.
    effective = request.effective_date or (current_end if activation_date is not None else today)
    if activation_date is not None and effective < activation_date:
        raise ValidationFailed(
            "effective_date: must not be before the activation date", field="effective_date"
        )
    changes: dict[str, Any] = {
        "status": new_status,
        "cancellation_date": today,
        "cancellation_effective_date": effective,
        "cancellation_reason": request.reason,
        **_cancellation_sync(before, effective),
    }
    after = admin_services.update_service(conn, service_id, changes)
    details = {
        "outcome": "applied",
        "cancellation": _cancellation_facts(conn, before, billing_day, effective, today),
        "provider": {
            "outcome": "scheduled" if after["provider_sync_status"] != "in_sync" else "not_needed",
            "sync_status": after["provider_sync_status"],
            "not_before": after["provider_sync_not_before"],
        },
    }
    if more_details is not None:
        details.update(more_details(before, after))
    return _log_and_result(
        conn, admin, "cancel", before, after, request.reason, request.notes, request_id, details
    )


def end_now(
    conn: Connection,
    admin: AdminPrincipal,
    service_id: UUID,
    request: EndNowRequest,
    request_id: str,
    provider: SubscriberProvider,
) -> ServiceActionResult:
    """End the service today and disable the line now, also when a cancellation with a later effective date
    exists (fraud found after the notice was given). Cancels it if it is not cancelled yet."""
    require_permission(admin.role, "end_now")
    today = sast_today()
    before = _lock(conn, service_id)
    new_status = next_status("end_now", before["status"])
    effective_before: date | None = before["cancellation_effective_date"]
    if before["status"] == "cancelled" and effective_before is not None and effective_before < today:
        raise InvalidState(
            "This service's last day has passed already; its line is disabled or being disabled.",
            current_status=before["status"],
            action="end_now",
        )
    billing_day = billing_lookups.billing_day(conn, before["customer_id"]) or 1
    changes: dict[str, Any] = {
        "status": new_status,
        "cancellation_effective_date": today,
        # Service ends with today: nothing is owed to the line afterwards but the disable itself.
        "provider_sync_not_before": None,
    }
    if before["status"] != "cancelled":
        changes.update(cancellation_date=today, cancellation_reason=request.reason)
    staged = admin_services.update_service(conn, service_id, changes)
    attempt = lifecycle_provider.Attempt(admin, before, "end_now", request.reason, request.notes, request_id)
    lifecycle_provider.check_audit_row(conn, attempt, staged)
    line_already_off = before["status"] == "suspended" and before["provider_sync_status"] == "in_sync"
    if line_already_off:
        outcome = lifecycle_provider.ProviderOutcome("in_sync", False, {"outcome": "not_needed"})
        after = admin_services.update_service(
            conn, service_id, {"provider_sync_status": "in_sync", "provider_sync_not_before": None}
        )
    else:
        outcome = lifecycle_provider.set_enabled(conn, attempt, False, provider)
        after = admin_services.update_service(conn, service_id, lifecycle_provider.sync_columns(outcome))
        lifecycle_provider.settle(conn, outcome)
    details = {
        "outcome": "provider_pending" if outcome.pending else "applied",
        "cancellation": _cancellation_facts(conn, before, billing_day, today, today),
        "previous_effective_date": effective_before,
        "provider": outcome.details,
    }
    return _log_and_result(
        conn,
        admin,
        "end_now",
        before,
        after,
        request.reason,
        request.notes,
        request_id,
        details,
        outcome.pending,
    )


def _check_effective_date(effective: date, today: date) -> None:
    if effective < today:
        raise ValidationFailed("effective_date: must be today or later", field="effective_date")
    limit = get_settings().cancellation_max_days_ahead
    if effective > today + timedelta(days=limit):
        raise ValidationFailed(
            f"effective_date: must be at most {limit} days ahead (end service now with end-now instead of "
            "back-dating; a later date needs a new cancellation nearer the time)",
            field="effective_date",
        )


def _cancellation_facts(
    conn: Connection, before: dict[str, Any], billing_day: int, effective: date, today: date
) -> dict[str, Any]:
    """What the billing run needs for the final period: the figures and the open suspension."""
    current_start, current_end = period_containing(today, billing_day)
    open_suspension = service_suspensions.open_for_service(conn, before["id"])
    return {
        "effective_date": effective,
        "billing_day": billing_day,
        "monthly_price": format_money(before["monthly_price"]),
        "activation_date": before["activation_date"],
        "current_period": {"start": current_start, "end": current_end},
        "final_period": _final_period(conn, before, billing_day, effective),
        "open_suspension_id": str(open_suspension["id"]) if open_suspension else None,
        "open_suspension_pauses_billing": open_suspension["pauses_billing"] if open_suspension else None,
    }


# --- helpers ----------------------------------------------------------------------------------------------


def _lock(conn: Connection, service_id: UUID) -> dict[str, Any]:
    """The service, then the billing run's lock on its customer: a suspension, reactivation, activation or
    cancellation lands before the run reads the customer's facts or after its invoice is written."""
    row = admin_services.lock_service(conn, service_id)
    if row is None:
        raise NotFound("No such service.")
    billing_run_sql.lock_customer(conn, row["customer_id"])
    return row


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
        actor_type="system" if admin.is_system else "admin",
        actor_admin_id=admin.audited_admin_id,
        request_id=request_id,
        previous_data=lifecycle_provider.snapshot(before),
        new_data=lifecycle_provider.snapshot(after),
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
