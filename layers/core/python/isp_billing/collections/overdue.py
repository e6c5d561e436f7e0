"""Job enforce-overdue: mark invoices overdue, suspend for non-payment past the grace period, reactivate
on payment. The suspensions and reactivations go through the admin lifecycle code as the system actor
(audit rows with actor `system`, Interstellio intents, pending provider states), one service per
transaction. It reactivates only what the system suspended for `non_payment` (an admin's suspension
names its admin); a customer who paid during the grace period is never selected. Re-runs find nothing new.

An invoice's grace period starts at its due date, but never while a debit order for it is in flight, never
before its live mandate's debit date, and never before the action date of a debit the bank returned
(overdue_sql). Each suspension re-checks the customer's debt under the locks of their owing invoices, in the
suspension's own transaction: a payment committed before it always wins.

`reactivate_paid_up` is the same reactivation restricted to some customers, for the payment paths (a manual
payment, the reconciliation) to call once their own transaction has committed: a customer who pays is back
online within the request or job run, and the daily run still reconciles whatever that attempt missed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from pydantic import Field

from isp_billing import db
from isp_billing.api_models import IsoDate
from isp_billing.auth import SYSTEM_ACTOR
from isp_billing.clock import sast_today
from isp_billing.collections import overdue_sql as sql
from isp_billing.errors import DomainError
from isp_billing.jobs import JobOptions, JobOutcome, JobRun
from isp_billing.lifecycle import actions as service_lifecycle
from isp_billing.lifecycle.models import ReactivateRequest, SuspendRequest
from isp_billing.money import format_money
from isp_billing.notifications import queue_sql as notifications
from isp_billing.observability import log_failure, logger
from isp_billing.providers.interstellio import SubscriberProvider
from isp_billing.settings import get_settings

JOB_NAME = "enforce-overdue"


class EnforceOverdueOptions(JobOptions):
    run_date: IsoDate | None = Field(default=None, description="The SAST day of the run (default: today).")


def grace_cutoff(today: date) -> date:
    """Invoices due before this day are overdue past the grace period."""
    return today - timedelta(days=get_settings().overdue_grace_days)


def enforce_overdue(run: JobRun, provider: SubscriberProvider) -> JobOutcome:
    today = EnforceOverdueOptions.of(run.options).run_date or sast_today()
    cutoff = grace_cutoff(today)
    with db.service_session() as conn:
        marked = sql.mark_overdue(conn, today)
        to_reactivate = sql.services_to_reactivate(conn, cutoff)
        to_suspend = sql.services_to_suspend(conn, cutoff)
    reactivated, failed = _reactivate(to_reactivate, str(run.id), provider)
    suspended: dict[Any, list[dict[str, Any]]] = {}
    paid_meanwhile = 0
    for row in to_suspend:
        request = SuspendRequest(
            reason=f"Non-payment: invoices overdue since {row['oldest_due']:%Y-%m-%d}",
            suspension_type="non_payment",
        )
        done: list[bool] = []
        ok = _act(
            lambda conn, row=row, request=request, done=done: done.append(
                _suspend_and_notify(conn, row, request, str(run.id), provider, cutoff)
            ),
            row,
        )
        if ok and done == [True]:
            suspended.setdefault(row["customer_id"], []).append(row)
        elif ok:
            paid_meanwhile += 1
        failed += not ok
    suspended_count = sum(len(v) for v in suspended.values())
    details = {
        "run_date": today.isoformat(),
        "grace_cutoff": cutoff.isoformat(),
        "marked_overdue": marked,
        "suspended": suspended_count,
        "not_suspended_paid_meanwhile": paid_meanwhile,
        "reactivated": reactivated,
    }
    return JobOutcome(processed=suspended_count + reactivated, failed=failed, details=details)


def reactivate_paid_up(
    customer_ids: Collection[UUID],
    request_id: str,
    provider: Callable[[], SubscriberProvider],
    today: date | None = None,
) -> tuple[int, int]:
    """Reactivate what the system suspended for these customers, where none of them still owes past the
    grace period: (reactivated, failed). Called after a payment's transaction committed, never inside it;
    it never raises, since the payment stands whatever happens here and the daily run retries what failed.
    `provider` is built only when there is a line to enable (most payments have none)."""
    if not customer_ids:
        return 0, 0
    try:
        with db.service_session() as conn:
            rows = sql.services_to_reactivate(conn, grace_cutoff(today or sast_today()), list(customer_ids))
        return _reactivate(rows, request_id, provider()) if rows else (0, 0)
    except Exception as error:
        log_failure("reactivation after payment not applied", error, customers=len(customer_ids))
        return 0, 1


def _reactivate(rows: list[dict[str, Any]], request_id: str, provider: SubscriberProvider) -> tuple[int, int]:
    reactivated = 0
    for row in rows:
        reactivated += _act(
            lambda conn, row=row: service_lifecycle.reactivate(
                conn,
                SYSTEM_ACTOR,
                row["service_id"],
                ReactivateRequest(reason="Overdue invoices paid"),
                request_id,
                provider,
            ),
            row,
        )
    return reactivated, len(rows) - reactivated


def _suspend_and_notify(
    conn: db.Connection,
    row: dict[str, Any],
    request: SuspendRequest,
    request_id: str,
    provider: SubscriberProvider,
    cutoff: date,
) -> bool:
    """Suspend the service unless, re-checked under the customer's invoice locks just before, its customer
    no longer owes past the grace period (a payment committed first always wins). Whether it suspended."""
    sql.lock_customer_debt(conn, row["customer_id"])
    if not sql.services_to_suspend(conn, cutoff, [row["service_id"]]):
        return False
    result = service_lifecycle.suspend(conn, SYSTEM_ACTOR, row["service_id"], request, request_id, provider)
    notifications.queue(
        conn,
        notifications.NotificationRequest(
            customer_id=row["customer_id"],
            kind="suspended_non_payment",
            subject="Your internet service is suspended for non-payment",
            template="suspended_non_payment",
            dedupe_key=f"suspended_non_payment:{row['service_id']}:{result.action.id}",
            data={
                "invoice_numbers": row["invoice_numbers"],
                "overdue_amount": format_money(row["overdue_amount"]),
                "oldest_due": row["oldest_due"].isoformat(),
            },
        ),
    )
    return True


def _act(action: Any, row: dict[str, Any]) -> bool:
    """One service's action in its own transaction; a refusal (409 raced, 502 from Interstellio) is logged
    and counted, the run goes on."""
    try:
        with db.service_session() as conn:
            action(conn)
        return True
    except DomainError as error:
        logger.warning(
            "overdue action not applied",
            extra={"service_id": str(row["service_id"]), "error": type(error).__name__},
        )
        return False
