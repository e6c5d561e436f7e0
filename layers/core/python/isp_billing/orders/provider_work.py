"""What retry-provider-sync finishes for the catalogue side, after the lifecycle's owed flags.

- Terms in force today: service_packages' price, cap and out-of-bundle columns follow the price history.
- `create_subscriber` left `requested` (Interstellio's answer was lost, or the process died after the call):
  the username is looked up and the subscriber created only if it does not exist; its id is stored and the
  service activated on the day the admin asked for (a `system` activate audit row).
- `change_profile` due today or earlier: PATCH the subscriber's profile_id (idempotent), then a
  `package_change` audit row. A failure stays `requested` and is tried again on the next run.

Each row is its own transaction, holding the service's row (an admin acting on it meanwhile is skipped).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from isp_billing import db
from isp_billing.auth import SYSTEM_ACTOR
from isp_billing.catalogue import sql as catalogue_sql
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import ProviderError
from isp_billing.jobs import JobOutcome, JobRun
from isp_billing.lifecycle import audit_sql as service_actions
from isp_billing.lifecycle import provider_sync
from isp_billing.lifecycle.models import ActivateRequest
from isp_billing.lifecycle.provider import error_facts
from isp_billing.observability import logger
from isp_billing.orders import provisioning, work_sql
from isp_billing.providers.interstellio import SubscriberProvider, SubscriberProvisioner
from isp_billing.settings import get_settings

BATCH_LIMIT = 500
PROVISIONED_REASON = "Provisioned by retry-provider-sync"


class Provider(SubscriberProvider, SubscriberProvisioner, Protocol):
    """The Interstellio client: flags, subscribers and profiles."""


def retry_all(run: JobRun, provider: Provider) -> JobOutcome:
    """The retry-provider-sync job: the lifecycle's owed flags, then the catalogue side's work."""
    outcome = provider_sync.retry_pending(run, provider)
    mine = finish_due_work(run, provider)
    return replace(
        outcome,
        processed=outcome.processed + mine.processed,
        failed=outcome.failed + mine.failed,
        skipped=outcome.skipped + mine.skipped,
        details={**outcome.details, **mine.details},
    )


def finish_due_work(run: JobRun, provider: SubscriberProvisioner) -> JobOutcome:
    today = sast_today()
    limit = int(run.options.get("limit", BATCH_LIMIT))
    with db.service_session() as conn:
        terms_applied = catalogue_sql.apply_terms(conn, today)
        due = work_sql.due(conn, today, limit)
    outcome = JobOutcome(details={"package_terms_applied": terms_applied, "provider_work_due": len(due)})
    for item in due:
        with db.service_session() as conn:
            result = _finish_one(conn, item["id"], provider, run)
        if result == "applied":
            outcome.processed += 1
        elif result == "failed":
            outcome.failed += 1
        else:
            outcome.skipped += 1
    return outcome


def _finish_one(conn: Connection, work_id: Any, provider: SubscriberProvisioner, run: JobRun) -> str:
    work = work_sql.lock_requested(conn, work_id)
    if work is None:
        return "skipped"
    service = work_sql.lock_service(conn, work["service_id"], skip_locked=True)
    if service is None:
        return "skipped"  # an admin's action on it is in flight
    if work["kind"] == "create_subscriber":
        return _create(conn, work, service, provider, run)
    return _change_profile(conn, work, service, provider, run)


def _create(
    conn: Connection,
    work: dict[str, Any],
    service: dict[str, Any],
    provider: SubscriberProvisioner,
    run: JobRun,
) -> str:
    if service["interstellio_subscriber_id"] or service["status"] != "pending":
        # provisioned meanwhile (never twice), or cancelled before the line existed
        work_sql.settle(conn, work["id"], "superseded")
        work_sql.set_provisioning(
            conn, service["id"], None if service["status"] != "pending" else "provisioned"
        )
        return "skipped"
    virtual_id = get_settings().interstellio_virtual_id
    if not virtual_id:
        work_sql.record_attempt(conn, work["id"], "no_virtual_id")
        return "failed"
    try:
        subscriber, how = provisioning.create_or_find(provider, work, service, virtual_id)
    except provisioning.Uncertain as uncertain:
        work_sql.record_attempt(conn, work["id"], str(uncertain.facts.get("code")))
        return "failed"
    except ProviderError as error:
        code = str(error_facts(error)["code"])
        logger.warning("subscriber creation refused", extra={"service_id": str(service["id"]), "code": code})
        work_sql.settle(conn, work["id"], "refused", error=code)
        work_sql.set_provisioning(conn, service["id"], None)
        return "failed"
    request = ActivateRequest(reason=PROVISIONED_REASON, activation_date=work["activation_date"])
    provisioning.finish(conn, SYSTEM_ACTOR, service["id"], work, subscriber, how, request, f"job:{run.id}")
    return "applied"


def _change_profile(
    conn: Connection,
    work: dict[str, Any],
    service: dict[str, Any],
    provider: SubscriberProvisioner,
    run: JobRun,
) -> str:
    subscriber_id = service["interstellio_subscriber_id"] or work["subscriber_id"]
    if service["status"] == "cancelled" or not subscriber_id:
        work_sql.settle(conn, work["id"], "superseded")
        return "skipped"
    try:
        provider.set_subscriber_profile(subscriber_id, work["profile_id"])
    except ProviderError as error:
        code = str(error_facts(error)["code"])
        logger.warning(
            "profile switch failed; retried next run", extra={"service_id": str(service["id"]), "code": code}
        )
        work_sql.record_attempt(conn, work["id"], code)
        return "failed"
    work_sql.settle(conn, work["id"], "applied", subscriber_id=subscriber_id)
    service_actions.insert(
        conn,
        service_id=service["id"],
        customer_id=service["customer_id"],
        action="package_change",
        previous_status=service["status"],
        new_status=service["status"],
        reason="Package change applied at Interstellio",
        notes=None,
        actor_type="system",
        actor_admin_id=None,
        request_id=f"job:{run.id}",
        previous_data=None,
        new_data={"profile_id": work["profile_id"], "package_id": str(work["package_id"])},
        details={
            "outcome": "applied",
            "work_id": str(work["id"]),
            "subscriber_id": subscriber_id,
            "profile_id": work["profile_id"],
            "effective_date": str(work["due_date"]),
            "attempt": int(work["attempts"]) + 1,
            "job_run_id": str(run.id),
        },
    )
    return "applied"
