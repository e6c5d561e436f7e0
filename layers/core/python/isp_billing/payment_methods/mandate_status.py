"""Mandate statuses confirmed by NetCash, applied once: shared by the postback webhook and the mandate jobs.

NetCash's postbacks have been unreliable (providers-netcash.md §3.4), so two paths bring a mandate's outcome
in, and both end in `apply_confirmed`:

- the webhook (`netcash_mandates`): a postback is a hint, confirmed with RetrieveMandateData, for one mandate;
- `sync-mandate-statuses` (hourly): RetrieveMandateData once, every mandate we created, set-based.

`expire-unsigned-mandates` (daily) first runs that same sync, so a mandate signed at NetCash whose postback
was lost is accepted rather than expired, then expires what is still pending after 7 days.

The sync also settles debit orders left `requesting` (see `mandate_requests`): adopted when NetCash's file
knows their reference, failed when it still does not after the grace period.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from isp_billing import db
from isp_billing.db import Connection
from isp_billing.jobs import JobOutcome, JobRun
from isp_billing.observability import logger
from isp_billing.payment_methods import mandate_requests
from isp_billing.payment_methods import sql as payment_methods
from isp_billing.providers.netcash import MandateProvider, MandateStatus

# From each status, the statuses NetCash may move a mandate to. Declined, cancelled and expired are final.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "pending": frozenset({"accepted", "declined", "cancelled", "expired"}),
    "accepted": frozenset({"cancelled", "expired"}),
}
_ALLOWED = sorted(f"{before}>{after}" for before, afters in TRANSITIONS.items() for after in afters)
UNSIGNED_MANDATE_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class MandateChange:
    """What NetCash's confirmed status meant for one mandate we created."""

    payment_method_id: UUID
    customer_id: UUID
    previous_status: str
    confirmed_status: str
    applied: bool

    @property
    def outcome(self) -> str:
        """applied; unchanged (already so); refused (a move that is not allowed, e.g. out of declined)."""
        if self.applied:
            return "applied"
        return "unchanged" if self.previous_status == self.confirmed_status else "refused"


@dataclass(frozen=True)
class SyncResult:
    changes: list[MandateChange]
    netcash_mandates: int
    unknown_references: int
    requests_adopted: int = 0
    requests_failed: int = 0

    def outcome(self) -> JobOutcome:
        counts = Counter(change.outcome for change in self.changes)
        applied = Counter(change.confirmed_status for change in self.changes if change.applied)
        return JobOutcome(
            processed=counts["applied"],
            skipped=counts["unchanged"] + counts["refused"],
            details={
                "netcash_mandates": self.netcash_mandates,
                "applied": dict(sorted(applied.items())),
                "unchanged": counts["unchanged"],
                "refused": counts["refused"],
                "unknown_references": self.unknown_references,
                "requests_adopted": self.requests_adopted,
                "requests_failed": self.requests_failed,
            },
        )


def apply_confirmed(
    conn: Connection, confirmed: Mapping[UUID, MandateStatus], *, source: str
) -> list[MandateChange]:
    """Apply statuses NetCash confirmed (never a postback's word alone) to the mandates we created.

    One statement for any number of mandates; rows are locked, and a move the state machine does not allow
    (out of declined, cancelled or expired) is refused. Every change is logged, with ids only.
    """
    rows = payment_methods.apply_mandate_statuses(
        conn, {method_id: status.value for method_id, status in confirmed.items()}, _ALLOWED
    )
    changes = [
        MandateChange(
            payment_method_id=row["id"],
            customer_id=row["customer_id"],
            previous_status=row["previous_status"],
            confirmed_status=row["confirmed_status"],
            applied=row["applied"],
        )
        for row in rows
    ]
    for change in changes:
        if change.outcome == "unchanged":
            continue
        level = logger.info if change.applied else logger.warning
        level(
            "mandate status changed" if change.applied else "mandate status change refused",
            extra={
                "source": source,
                "payment_method_id": str(change.payment_method_id),
                "customer_id": str(change.customer_id),
                "previous_status": change.previous_status,
                "mandate_status": change.confirmed_status,
            },
        )
    return changes


def sync_from_netcash(provider: MandateProvider) -> SyncResult:
    """Retrieve NetCash's mandate file once (polling until it is ready) and apply every confirmed status.

    Raises ProviderError (code `file_not_ready` when the file never came) before anything is written.
    """
    statuses = provider.retrieve_mandate_statuses()
    confirmed: dict[UUID, MandateStatus] = {}
    unparseable = 0
    for reference, status in statuses.items():
        method_id = _uuid(reference)
        if method_id is None:
            unparseable += 1
        else:
            confirmed[method_id] = status
    with db.service_session() as conn:
        # A debit order whose request's process died after AddMandate: NetCash knows it, so it is ours.
        adopted = payment_methods.adopt_requested(conn, list(confirmed))
        changes = apply_confirmed(conn, confirmed, source="sync")
        # One NetCash still does not know after the grace period was never created there.
        failed = payment_methods.fail_stale_requested(conn, mandate_requests.REQUEST_GRACE)
    for row in adopted:
        logger.warning(
            "requested mandate adopted from NetCash's file",
            extra={
                "payment_method_id": str(row["id"]),
                "customer_id": str(row["customer_id"]),
                "is_primary": row["is_primary"],
            },
        )
    for row in failed:
        logger.warning(
            "mandate request unknown to NetCash; failed",
            extra={"payment_method_id": str(row["id"]), "customer_id": str(row["customer_id"])},
        )
    unknown = unparseable + len(confirmed) - len(changes)
    if unknown:
        logger.info("NetCash mandates that are not ours were ignored", extra={"unknown_references": unknown})
    return SyncResult(
        changes=changes,
        netcash_mandates=len(statuses),
        unknown_references=unknown,
        requests_adopted=len(adopted),
        requests_failed=len(failed),
    )


def sync_mandate_statuses(run: JobRun, provider: MandateProvider) -> JobOutcome:
    """Job sync-mandate-statuses: the backstop for lost or late postbacks."""
    return sync_from_netcash(provider).outcome()


def expire_unsigned_mandates(run: JobRun, provider: MandateProvider) -> JobOutcome:
    """Job expire-unsigned-mandates: sync with NetCash first, then expire what is still pending after 7 days.

    When NetCash cannot be read, nothing is expired (the run fails): a mandate signed at NetCash whose
    postback was lost must never be expired on our side.
    """
    synced = sync_from_netcash(provider)
    with db.service_session() as conn:
        expired = payment_methods.expire_unsigned_mandates(conn, UNSIGNED_MANDATE_LIFETIME)
    for row in expired:
        logger.info(
            "unsigned mandate expired",
            extra={
                "payment_method_id": str(row["id"]),
                "customer_id": str(row["customer_id"]),
                "is_primary": row["is_primary"],
            },
        )
    sync_outcome = synced.outcome()
    return JobOutcome(
        processed=len(expired),
        skipped=0,
        details={
            "expired": len(expired),
            "expired_primary": sum(1 for row in expired if row["is_primary"]),
            "sync": {"processed": sync_outcome.processed, **sync_outcome.details},
        },
    )


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None
