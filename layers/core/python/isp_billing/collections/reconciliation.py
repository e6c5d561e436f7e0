"""Job reconcile-payments: read NetCash's statement for every day since the last reconciled one and settle.

Each statement day is one transaction: its lines are recorded (type + NetCash id unique, so a re-read line
has no second effect), matched to our collections by Extra 1 (the collection id we put in the batch), and
settled: a paid debit -> `successful` and applied to the invoice (never above what it still owes; the rest
becomes credit); an unpaid -> `failed` with the bank's code and reason; an unpaid or dispute after a success
-> a new `reversal` transaction that undoes the payment (the original is only marked `reversed`). The code's
action is data (`unpaid_reason_codes`): permanent and new-mandate codes block the mandate; 02 and 22 wait
for the next mandated date (the run's selection does that), and a second consecutive 02 blocks it too.
`FILE NOT READY` stops the run at that day (the next run retries it); `NO CHANGE` is a reconciled day. No
day is ever skipped: a run reads every day since the last reconciled one, at most
`reconcile_max_days_per_run` of them (a run further behind leaves the rest, oldest first, to the next runs
and says so in `behind_from`). A collection still `submitted` `debit_order_unanswered_business_days` business
days after its action date is a validation error, and the run is `partial` with their count.
Once the days have committed, the customers a paid debit left with nothing overdue past the grace period get
what the system suspended for non-payment reactivated in the same run (overdue.reactivate_paid_up).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import Field

from isp_billing import db
from isp_billing.api_models import IsoDate
from isp_billing.clock import sast_today
from isp_billing.collections import overdue
from isp_billing.collections import reconciliation_sql as sql
from isp_billing.collections.action_dates import BusinessCalendar
from isp_billing.collections.debit_orders import DebitOrderProvider, business_calendar
from isp_billing.collections.payments import apply_payments, reverse_payment
from isp_billing.db import Connection
from isp_billing.jobs import JobOptions, JobOutcome, JobRun
from isp_billing.money import format_money
from isp_billing.notifications import queue_sql as notifications
from isp_billing.observability import logger, metrics
from isp_billing.providers.interstellio import SubscriberProvider
from isp_billing.providers.netcash_debit_orders import StatementLine
from isp_billing.settings import get_settings

JOB_NAME = "reconcile-payments"
PAID_TYPES = {"TDD", "SDD"}
UNPAID_TYPES = {"DRU"}
BLOCKING_ACTIONS = {"stop_permanent", "stop_new_mandate"}
# Statement lines that found their collection in a state they cannot move it from (an alarm watches it).
UNEXPECTED_LINES_METRIC = "reconcile-payments-unexpected-lines"


class ReconcilePaymentsOptions(JobOptions):
    run_date: IsoDate | None = Field(default=None, description="The SAST day of the run (default: today).")


def days_to_read(conn: Connection, run_date: date) -> tuple[list[date], date | None]:
    """Every statement day since the last reconciled one, up to yesterday, oldest first: at most
    `reconcile_max_days_per_run` of them, and the first day left for the next run (None: caught up). No day
    is ever skipped, however far behind the runs are (NetCash keeps the statements)."""
    last = run_date - timedelta(days=1)
    reconciled = sql.last_reconciled_day(conn)
    if reconciled is not None:
        first = reconciled + timedelta(days=1)
    else:
        first = min(sql.first_open_action_date(conn) or last, last)
    count = (last - first).days + 1
    limit = get_settings().reconcile_max_days_per_run
    days = [first + timedelta(days=n) for n in range(min(count, limit))]
    return days, (first + timedelta(days=limit) if count > limit else None)


def unanswered_cutoff(last_read: date, calendar: BusinessCalendar) -> date:
    """The latest action date that is `debit_order_unanswered_business_days` business days before the last
    statement day read: a collection of that date or earlier still `submitted` has had its time."""
    needed = get_settings().debit_order_unanswered_business_days
    cutoff = last_read
    while needed > 0:
        cutoff -= timedelta(days=1)
        needed -= calendar.is_business_day(cutoff)
    return cutoff


def reconcile_payments(
    run: JobRun, provider: DebitOrderProvider, subscribers: Callable[[], SubscriberProvider]
) -> JobOutcome:
    options = ReconcilePaymentsOptions.of(run.options)
    run_date = options.run_date or sast_today()
    with db.service_session() as conn:
        days, behind_from = days_to_read(conn, run_date)
    totals = {"paid": 0, "unpaid": 0, "reversed": 0, "unmatched": 0, "unexpected": 0}
    reconciled: list[str] = []
    paying: set[uuid.UUID] = set()
    not_ready = None
    for day in days:
        statement = provider.statement(day)
        if not statement.ready:
            not_ready = day.isoformat()
            break
        with db.service_session() as conn:
            counts, paid_by = settle_day(conn, day, statement.lines, run_date)
            sql.record_day(conn, day, len(statement.lines))
        paying.update(paid_by)
        for key, value in counts.items():
            totals[key] += value
        reconciled.append(day.isoformat())
    reactivated, not_reactivated = overdue.reactivate_paid_up(paying, str(run.id), subscribers, run_date)
    # A collection the bank has not answered long after its action date never waits silently: each is a
    # validation error, and the run is `partial` with their count, on the jobs view, until it is resolved.
    calendar = business_calendar(run_date)
    unanswered = 0
    with db.service_session() as conn:
        last_read = sql.last_reconciled_day(conn)
        if last_read is not None:
            unanswered = sql.record_unanswered(conn, unanswered_cutoff(last_read, calendar))
    details: dict[str, Any] = {
        "days": reconciled,
        "not_ready_from": not_ready,
        "behind_from": None if not_ready or behind_from is None else behind_from.isoformat(),
        **totals,
        "reactivated": reactivated,
        "unanswered_collections": unanswered,
    }
    return JobOutcome(
        processed=totals["paid"] + totals["unpaid"] + totals["reversed"],
        failed=not_reactivated + unanswered,
        skipped=totals["unmatched"] + totals["unexpected"],
        details=details,
    )


def _collection_id(extra1: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(extra1.strip())
    except ValueError:
        return None


def settle_day(
    conn: Connection, day: date, lines: list[StatementLine], today: date
) -> tuple[dict[str, int], set[uuid.UUID]]:
    """The day's counts, and the customers whose debits were paid (candidates for reactivation).

    Lines are applied in the bank's order, each against its collection's state at that moment (the rows are
    locked for the day's transaction), and each transition is checked: a line that finds its collection in
    a state it cannot move from is recorded (a validation error naming the line, an alert), never dropped.
    The common case, a collection whose only line of the day is a paid line while it is `submitted`, is
    settled set-based; a collection with more than one line that day goes line by line."""
    relevant = [line for line in lines if line.transaction_type in PAID_TYPES | UNPAID_TYPES]
    fresh = sql.claim_lines(
        conn,
        day,
        [
            (
                x.transaction_type,
                x.transaction_id,
                x.extra1,
                "paid" if x.transaction_type in PAID_TYPES else "unpaid",
            )
            for x in relevant
        ],
    )
    new_lines = [x for x in relevant if (x.transaction_type, x.transaction_id) in fresh]
    ids = [i for i in (_collection_id(x.extra1) for x in new_lines) if i is not None]
    collections = sql.collections_by_id(conn, ids)
    matched = [x for x in new_lines if x.extra1.strip() in collections]
    unmatched = [x for x in new_lines if x.extra1.strip() not in collections]
    sql.record_unmatched(conn, day, [(x.transaction_type, x.transaction_id, x.extra1) for x in unmatched])

    lines_of = Counter(x.extra1.strip() for x in matched)
    simple = [
        x
        for x in matched
        if x.transaction_type in PAID_TYPES
        and lines_of[x.extra1.strip()] == 1
        and collections[x.extra1.strip()]["status"] == "submitted"
    ]
    settled = sql.mark_successful(
        conn,
        [uuid.UUID(x.extra1.strip()) for x in simple],
        [f"{x.transaction_type}:{x.transaction_id}" for x in simple],
    )
    apply_payments(conn, [_received(row, day) for row in settled])
    paying = {row["customer_id"] for row in settled}
    counts = {"paid": len(settled), "unpaid": 0, "reversed": 0, "unmatched": len(unmatched), "unexpected": 0}

    simple_keys = {(x.transaction_type, x.transaction_id) for x in simple}
    mails: list[notifications.NotificationRequest] = []
    for line in matched:
        if (line.transaction_type, line.transaction_id) in simple_keys:
            continue
        collection = sql.collection_now(conn, uuid.UUID(line.extra1.strip()))
        if line.transaction_type in PAID_TYPES:
            outcome = _apply_paid(conn, collection, line, day)
            if outcome == "paid":
                paying.add(collection["customer_id"])
        else:
            outcome, mail = handle_unpaid(conn, collection, line, today, day)
            if mail is not None:
                mails.append(mail)
        counts[outcome] += 1
    notifications.queue_many(conn, mails)
    if counts["unexpected"]:
        metrics.add_metric(name=UNEXPECTED_LINES_METRIC, unit="Count", value=counts["unexpected"])
    return counts, paying


def _received(row: dict[str, Any], day: date) -> dict[str, Any]:
    """A settled collection as the ledger's payment received."""
    return {
        "transaction_id": row["id"],
        "customer_id": row["customer_id"],
        "invoice_id": row["invoice_id"],
        "amount": row["amount"],
        "entry_date": day,
    }


def _apply_paid(conn: Connection, collection: dict[str, Any], line: StatementLine, day: date) -> str:
    """A paid line: `submitted` -> `successful` and applied to the invoice; on any other state the money
    still arrived (a second payment of the same collection, a payment of one we had failed): it is applied
    through the overpayment path (what the invoice still owes, the rest the customer's credit), recorded as
    a validation error with the line, and alerted on."""
    reference = f"{line.transaction_type}:{line.transaction_id}"
    if collection["status"] == "submitted":
        settled = sql.mark_successful(conn, [collection["id"]], [reference])
        if settled:
            apply_payments(conn, [_received(row, day) for row in settled])
            return "paid"
    money_id = sql.record_money_received(conn, collection, line, day)
    receipts = (
        apply_payments(
            conn,
            [
                {
                    "transaction_id": money_id,
                    "customer_id": collection["customer_id"],
                    "invoice_id": collection["invoice_id"],
                    "amount": line.amount,
                    "entry_date": day,
                }
            ],
        )
        if money_id is not None
        else []
    )
    applied = {
        "applied": sum((r.applied for r in receipts), Decimal("0.00")),
        "excess": sum((r.to_credit for r in receipts), Decimal("0.00")),
    }
    sql.record_unexpected(
        conn,
        day,
        line,
        collection,
        "paid_line_not_submitted",
        f"NetCash paid a collection that is {collection['status']}; the money was applied to what the invoice"
        f" still owed ({format_money(applied['applied'])}) and the rest became credit"
        f" ({format_money(applied['excess'])}).",
        "Check the collection in the NetCash portal; refund the customer's credit if debited twice.",
    )
    logger.warning(
        "paid statement line for a collection that is not submitted",
        extra={"collection_id": str(collection["id"]), "status": collection["status"], "line": reference},
    )
    return "unexpected"


def handle_unpaid(
    conn: Connection, collection: dict[str, Any], line: StatementLine, today: date, day: date | None = None
) -> tuple[str, notifications.NotificationRequest | None]:
    code = line.unpaid_code or "unknown"
    known = sql.unpaid_code(conn, code)
    reason = known["description"] if known else "Returned unpaid by the bank"
    action = known["action"] if known else "stop_new_mandate"
    reference = f"{line.transaction_type}:{line.transaction_id}"
    if collection["status"] == "submitted" and sql.mark_failed(
        conn, collection["id"], code, reason, reference
    ):
        outcome = "unpaid"
    elif collection["status"] == "successful":
        # A late unpaid or a dispute after the paid line: the payment is undone by a reversal row.
        reverse_payment(conn, collection, reason=reason, code=code, reference=reference, today=today)
        outcome = "reversed"
    else:
        sql.record_unexpected(
            conn,
            day or today,
            line,
            collection,
            "unpaid_line_unexpected_state",
            f"NetCash returned a collection that is {collection['status']} (code {code}: {reason}).",
            "Check the collection and the invoice in the NetCash portal; nothing was changed.",
        )
        logger.warning(
            "unpaid statement line for a collection in an unexpected state",
            extra={"collection_id": str(collection["id"]), "status": collection["status"], "line": reference},
        )
        return "unexpected", None
    needs_new_mandate = action in BLOCKING_ACTIONS
    if needs_new_mandate:
        sql.block_mandate(conn, collection, code, reason)
    elif (
        code == "02"
        and sql.previous_return_code(conn, collection["payment_method_id"], collection["id"]) == "02"
    ):
        needs_new_mandate = True
        sql.block_mandate(conn, collection, code, "Two consecutive debits returned not provided for (02)")
    mail = notifications.NotificationRequest(
        customer_id=collection["customer_id"],
        kind="debit_failed",
        subject=f"Your debit order for invoice {collection['invoice_number']} was not paid",
        template="debit_failed",
        dedupe_key=f"debit_failed:{collection['id']}:{reference}",
        data={
            "invoice_number": collection["invoice_number"],
            "amount": format_money(collection["amount"]),
            "code": code,
            "reason": reason,
            "reversed": outcome == "reversed",
            "needs_new_mandate": needs_new_mandate,
        },
    )
    return outcome, mail
