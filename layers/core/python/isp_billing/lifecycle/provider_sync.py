"""Job retry-provider-sync: make Interstellio agree with customer_services where a change is still owed.

A service owes a change when an admin action's provider call had an uncertain outcome (pending_disable /
pending_enable) or a cancellation scheduled the line's disable for the day after its effective date. The job
re-applies the desired `enabled` flag (the PATCH is idempotent), one service per transaction, and writes a
`provider_retry` audit row for every attempt, successful or not. A failure leaves the pending state in place
for the next run: it never gives up, so the database never says suspended while the line may be enabled
without a retry to come.

First, intents an admin action committed before calling Interstellio but never settled (the process died
after the call, or its transaction failed) become changes owed now: the line is set to what the service's
status in the database means.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from isp_billing import db
from isp_billing.clock import sast_now, sast_today
from isp_billing.db import Connection
from isp_billing.errors import ProviderError
from isp_billing.jobs import JobOutcome, JobRun
from isp_billing.lifecycle import audit_sql as service_actions
from isp_billing.lifecycle import provider_intents_sql as provider_intents
from isp_billing.lifecycle import services_sql as admin_services
from isp_billing.observability import logger, metrics
from isp_billing.providers.interstellio import SubscriberProvider

BATCH_LIMIT = 500
RETRY_REASON = "Interstellio sync retry"


def desired_enabled(row: dict[str, Any], today: date) -> bool:
    """The subscriber's `enabled` flag this service should have now."""
    if row["status"] == "cancelled":
        effective: date | None = row["cancellation_effective_date"]
        if effective is not None and today > effective:
            return False
    return bool(row["provider_sync_status"] == "pending_enable")


def line_enabled_for(row: dict[str, Any], today: date) -> bool | None:
    """The `enabled` flag the service's status means today (None: a pending service, nothing to say)."""
    if row["status"] == "active":
        return True
    if row["status"] == "suspended":
        return False
    if row["status"] == "cancelled":
        effective: date | None = row["cancellation_effective_date"]
        return effective is not None and today <= effective
    return None


def retry_pending(run: JobRun, provider: SubscriberProvider) -> JobOutcome:
    today = sast_today()
    limit = int(run.options.get("limit", BATCH_LIMIT))
    reconciled = reconcile_interrupted_intents(run, today, limit)
    with db.service_session() as conn:
        candidates = admin_services.pending_sync_ids(conn, today, limit)
    outcome = JobOutcome(details={"candidates": len(candidates), "intents_reconciled": reconciled})
    for service_id in candidates:
        with db.service_session() as conn:
            result = _sync_one(conn, service_id, today, provider, run)
        if result == "synced":
            outcome.processed += 1
        elif result == "failed":
            outcome.failed += 1
        else:
            outcome.skipped += 1
    # Alarmed when it stays above zero for an hour: a line that still owes a change after four runs.
    metrics.add_metric(name="retry-provider-sync-still-pending", unit="Count", value=outcome.failed)
    return outcome


def reconcile_interrupted_intents(run: JobRun, today: date, limit: int) -> int:
    """Turn each unsettled intent into a change owed now, so the loop below makes the line agree with the
    database.

    An intent is unsettled only when its admin's transaction rolled back after (or while) Interstellio was
    called: the process died, or the transaction after the call failed. The database kept the service as it
    was, so the line must show what the service's status means today. An admin's transaction still running
    holds the service row: SKIP LOCKED leaves its intent alone.
    """
    with db.service_session() as conn:
        intents = provider_intents.unsettled(conn, limit)
    reconciled = 0
    for candidate in intents:
        with db.service_session() as conn:
            intent = provider_intents.lock_unsettled(conn, candidate["id"])
            service_id = candidate["service_id"]
            before = admin_services.lock_service_skip_locked(conn, service_id) if intent else None
            if intent is None or before is None:
                continue  # settled meanwhile, or the admin's transaction is still running
            owed = line_enabled_for(before, today)
            not_before: date | None = before["provider_sync_not_before"]
            change_due_now = before["provider_sync_status"] != "in_sync" and (
                not_before is None or not_before <= today
            )
            after = before
            if owed is not None and not change_due_now:
                after = admin_services.update_service(
                    conn,
                    before["id"],
                    {
                        "provider_sync_status": "pending_enable" if owed else "pending_disable",
                        "provider_sync_not_before": None,
                        "provider_sync_attempts": 0,
                        "provider_sync_requested_at": sast_now(),
                    },
                )
            provider_intents.settle(conn, intent["id"], "reconciled")
            details = {
                "outcome": "intent_reconciled",
                "intent_id": str(intent["id"]),
                "intent_action": intent["action"],
                "intent_enabled": intent["enabled"],
                "intent_request_id": intent["request_id"],
                "owed_enabled": owed,
            }
            logger.warning(
                "interrupted provider call reconciled",
                extra={"service_id": str(before["id"]), "intent_id": str(intent["id"])},
            )
            _log(conn, before, after, details, run)
            reconciled += 1
    return reconciled


def _sync_one(
    conn: Connection, service_id: UUID, today: date, provider: SubscriberProvider, run: JobRun
) -> str:
    before = admin_services.lock_if_pending(conn, service_id, today)
    if before is None:
        return "skipped"  # an admin holds it, or it was settled meanwhile
    enabled = desired_enabled(before, today)
    attempt = int(before["provider_sync_attempts"]) + 1
    now = sast_now()
    try:
        provider.set_subscriber_enabled(before["interstellio_subscriber_id"], enabled)
    except ProviderError as error:
        code = str(error.extra.get("code", "unknown"))
        after = admin_services.update_service(
            conn, service_id, {"provider_sync_attempts": attempt, "provider_sync_error": code}
        )
        details: dict[str, Any] = {
            "outcome": "failed",
            "enabled": enabled,
            "attempt": attempt,
            "provider": {
                "provider": "interstellio",
                "code": code,
                "http_status": error.extra.get("http_status"),
                "provider_request_id": error.extra.get("provider_request_id"),
            },
        }
        logger.warning("provider sync failed", extra={"service_id": str(service_id), "code": code})
        _log(conn, before, after, details, run)
        return "failed"
    changes: dict[str, Any] = {
        "provider_sync_attempts": 0,
        "provider_sync_error": None,
        "provider_synced_at": now,
    }
    effective: date | None = before["cancellation_effective_date"]
    if before["status"] == "cancelled" and enabled and effective is not None:
        # The owed reactivation is done; the cancellation's disable is still to come after the last day.
        changes.update(
            provider_sync_status="pending_disable",
            provider_sync_not_before=effective + timedelta(days=1),
            provider_sync_requested_at=now,
        )
    else:
        changes.update(provider_sync_status="in_sync", provider_sync_not_before=None)
    after = admin_services.update_service(conn, service_id, changes)
    _log(conn, before, after, {"outcome": "synced", "enabled": enabled, "attempt": attempt}, run)
    return "synced"


def _log(
    conn: Connection, before: dict[str, Any], after: dict[str, Any], details: dict[str, Any], run: JobRun
) -> None:
    service_actions.insert(
        conn,
        service_id=before["id"],
        customer_id=before["customer_id"],
        action="provider_retry",
        previous_status=before["status"],
        new_status=after["status"],
        reason=RETRY_REASON,
        notes=None,
        actor_type="system",
        actor_admin_id=None,
        request_id=None,
        previous_data={k: before[k] for k in admin_services.SNAPSHOT_COLUMNS},
        new_data={k: after[k] for k in admin_services.SNAPSHOT_COLUMNS},
        details={**details, "job_run_id": str(run.id)},
    )
