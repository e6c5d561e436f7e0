"""Interstellio calls of the admin lifecycle actions, made so that no outcome can be forgotten.

The admin's transaction (holding the service's row lock) first stages every write of the action, and checks
the audit row in a savepoint that is rolled back, so anything the database would refuse fails before
Interstellio is called. Then, on a connection of its own, the intent (which flag is about to be asked of
which subscriber) is committed. Only then is Interstellio called:

- applied: the admin's transaction records in_sync and settles the intent in the same commit;
- maybe applied (timeout, connection lost, 5xx after retries, an unreadable 200): the change commits with a
  pending provider_sync_status that retry-provider-sync re-applies, and the intent is settled as pending;
- certainly not applied (a 4xx answer, 429 after retries, unknown subscriber): the refused attempt's audit
  row and the intent's settlement are committed on the side connection, then the admin's transaction rolls
  back (502);
- the process dies, or the admin's transaction fails after the call: the transaction rolls back, the intent
  stays unsettled, and retry-provider-sync makes the line agree with the database again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from isp_billing import side_connection
from isp_billing.auth import AdminPrincipal
from isp_billing.clock import sast_now
from isp_billing.db import Connection
from isp_billing.errors import ProviderError
from isp_billing.lifecycle import audit_sql as service_actions
from isp_billing.lifecycle import provider_intents_sql as provider_intents
from isp_billing.lifecycle import services_sql as admin_services
from isp_billing.observability import logger
from isp_billing.providers.interstellio import SubscriberProvider

# Provider error codes after which the PATCH may have been applied: the change commits as pending.
MAYBE_APPLIED_CODES = frozenset({"timeout", "unreachable", "unavailable", "malformed"})


@dataclass
class ProviderOutcome:
    sync_status: str
    pending: bool
    details: dict[str, Any] = field(default_factory=dict)
    intent_id: UUID | None = None


@dataclass(frozen=True)
class Attempt:
    """Who asks for what: the facts the intent, the audit rows and a refusal need."""

    admin: AdminPrincipal
    before: dict[str, Any]
    action: str
    reason: str
    notes: str | None
    request_id: str


def check_audit_row(conn: Connection, attempt: Attempt, after: dict[str, Any]) -> None:
    """Insert the action's audit row in a savepoint that is always rolled back: a value the database refuses
    (a NUL character, an over-long or blank reason) fails here, before any provider call."""
    with conn.transaction(force_rollback=True):
        _insert_audit(conn, attempt, after, {"outcome": "check"})


def set_enabled(
    conn: Connection, attempt: Attempt, enabled: bool, provider: SubscriberProvider
) -> ProviderOutcome:
    """Commit the intent, PATCH the subscriber's `enabled` flag, and classify the answer."""
    subscriber_id = attempt.before["interstellio_subscriber_id"]
    if not subscriber_id:
        return ProviderOutcome("in_sync", False, {"outcome": "no_subscriber"})
    with side_connection.opened() as side:
        with side_connection.service_transaction(side):
            intent_id = provider_intents.insert(
                side,
                service_id=attempt.before["id"],
                customer_id=attempt.before["customer_id"],
                action=attempt.action,
                subscriber_id=subscriber_id,
                enabled=enabled,
                request_id=attempt.request_id,
                actor_admin_id=attempt.admin.audited_admin_id,
            )
        try:
            provider.set_subscriber_enabled(subscriber_id, enabled)
        except ProviderError as error:
            facts = error_facts(error)
            if facts["code"] in MAYBE_APPLIED_CODES:
                logger.warning(
                    "provider outcome uncertain; change recorded as pending",
                    extra={"service_id": str(attempt.before["id"]), "code": facts["code"]},
                )
                pending_status = "pending_enable" if enabled else "pending_disable"
                details = {"outcome": "uncertain", "enabled": enabled, **facts}
                return ProviderOutcome(pending_status, True, details, intent_id)
            attempt_id = _record_refusal(side, attempt, enabled, facts, intent_id)
            verb = "enable" if enabled else "disable"
            raise ProviderError(
                f"Interstellio refused to {verb} the line; nothing was changed.",
                current_status=attempt.before["status"],
                action_id=str(attempt_id),
                **facts,
            ) from None
    return ProviderOutcome("in_sync", False, {"outcome": "applied", "enabled": enabled}, intent_id)


def settle(conn: Connection, outcome: ProviderOutcome) -> None:
    """Settle the intent in the admin's transaction: it commits with the change, or not at all."""
    if outcome.intent_id is not None:
        provider_intents.settle(conn, outcome.intent_id, "pending" if outcome.pending else "applied")


def sync_columns(outcome: ProviderOutcome) -> dict[str, Any]:
    now = sast_now()
    if outcome.pending:
        return {
            "provider_sync_status": outcome.sync_status,
            "provider_sync_not_before": None,
            "provider_sync_attempts": 1,
            "provider_sync_error": outcome.details.get("code"),
            "provider_sync_requested_at": now,
        }
    return {
        "provider_sync_status": "in_sync",
        "provider_sync_not_before": None,
        "provider_sync_attempts": 0,
        "provider_sync_error": None,
        "provider_synced_at": now if outcome.details.get("outcome") == "applied" else None,
    }


def error_facts(error: ProviderError) -> dict[str, Any]:
    return {
        "provider": "interstellio",
        "code": error.extra.get("code", "unknown"),
        "http_status": error.extra.get("http_status"),
        "provider_request_id": error.extra.get("provider_request_id"),
    }


def snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in admin_services.SNAPSHOT_COLUMNS if key in row}


def _record_refusal(
    side: Connection, attempt: Attempt, enabled: bool, facts: dict[str, Any], intent_id: UUID
) -> UUID:
    """The refused attempt's audit row and the intent's settlement, committed on the side connection while the
    admin's transaction still holds the row lock (it rolls back next). The audit row only references the
    locked service row by foreign key, which FOR NO KEY UPDATE lets through."""
    with side_connection.service_transaction(side):
        details = {
            "outcome": "provider_failed",
            "intent_id": str(intent_id),
            "provider": {"outcome": "refused", "enabled": enabled, **facts},
        }
        entry_id = _insert_audit(side, attempt, attempt.before, details)
        provider_intents.settle(side, intent_id, "refused")
        return entry_id


def _insert_audit(conn: Connection, attempt: Attempt, after: dict[str, Any], details: dict[str, Any]) -> UUID:
    return service_actions.insert(
        conn,
        service_id=attempt.before["id"],
        customer_id=attempt.before["customer_id"],
        action=attempt.action,
        previous_status=attempt.before["status"],
        new_status=after["status"],
        reason=attempt.reason,
        notes=attempt.notes,
        actor_type="system" if attempt.admin.is_system else "admin",
        actor_admin_id=attempt.admin.audited_admin_id,
        request_id=attempt.request_id,
        previous_data=snapshot(attempt.before),
        new_data=snapshot(after),
        details=details,
    )
