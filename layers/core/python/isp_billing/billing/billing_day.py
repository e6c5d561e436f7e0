"""A customer's billing-day change: the rule that keeps the recorded sequence of billing periods whole.

Each customer's billing periods are recorded (`billing_cycles`), and the run goes on from the end of the
last one recorded, never from a recomputation with today's billing day. A change, on day T, from the
current period [S, E] (the last recorded one, holding T) to a new billing day whose next billing date
after T is N:

- N <= E (the new date falls inside the period already invoiced): the period ends on N - 1 and the next
  invoice (dated N) credits each service the days N..E it billed, at the price invoiced;
- N = E + 1: nothing but the new day;
- N > E + 1: a bridging period E + 1 .. N - 1 is recorded; the run bills it on E + 1, pro-rata over the
  days of the new billing day's period that holds it.

Refused while a billing run is billing the customer (its lock is held) and while a period before T is
still to bill (the run first). The customer's route calls `change_billing_day` in its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from psycopg import errors as pg_errors

from isp_billing.billing import billing_day_sql as sql
from isp_billing.billing.periods import billing_date_in, days_in_period, period_containing
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import InvalidState, NotFound, ValidationFailed
from isp_billing.money import pro_rata

ONE_DAY = timedelta(days=1)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class BillingDayChange:
    customer_id: UUID
    old_day: int
    new_day: int
    next_billing_date: date  # N: the first billing date of the new day after the change
    current_period: tuple[date, date] | None  # [S, E'] as it now ends (None: no period recorded yet)
    bridging_period: tuple[date, date] | None  # recorded, billed on its first day
    overlap: tuple[date, date] | None  # invoiced days the next invoice credits
    overlap_credit: Decimal  # what that credit comes to (negative), at the prices invoiced


def next_billing_date(after: date, billing_day: int) -> date:
    """The first billing date of `billing_day` strictly after `after`."""
    this_month = billing_date_in(after.year, after.month, billing_day)
    if this_month > after:
        return this_month
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    return billing_date_in(year, month, billing_day)


@dataclass(frozen=True)
class PeriodPlan:
    """What a change does to the recorded periods (pure): the current period's end, a bridging period."""

    next_billing_date: date
    current_end: date | None  # the current period's end after the change (None: no current period)
    bridging_period: tuple[date, date] | None
    overlap: tuple[date, date] | None


def plan_change(current: tuple[date, date] | None, today: date, new_day: int) -> PeriodPlan:
    """The rule: from `today`, the current recorded period [S, E] and the new billing day."""
    n = next_billing_date(today, new_day)
    if current is None:
        return PeriodPlan(n, None, None, None)
    end = current[1]
    if n <= end:
        return PeriodPlan(n, n - ONE_DAY, None, (n, end))
    if n > end + ONE_DAY:
        return PeriodPlan(n, end, (end + ONE_DAY, n - ONE_DAY), None)
    return PeriodPlan(n, end, None, None)


def change_billing_day(
    conn: Connection, customer_id: UUID | str, new_day: int, today: date | None = None
) -> BillingDayChange:
    """Change the customer's billing day from `today` (SAST); the caller's transaction commits it."""
    if not isinstance(new_day, int) or not 1 <= new_day <= 31:
        raise ValidationFailed("billing_day: must be a day from 1 to 31", field="billing_day")
    today = today or sast_today()
    try:
        with conn.transaction():  # a savepoint: the refusal leaves the caller's transaction usable
            row = sql.lock_customer_nowait(conn, customer_id)
    except pg_errors.LockNotAvailable:
        raise InvalidState(
            "A billing run is billing this customer; change the billing day when it has finished."
        ) from None
    if row is None:
        raise NotFound("No such customer.")
    old_day = row["billing_day"]
    if old_day is None:
        raise InvalidState("The customer has no billing row.")
    if new_day == old_day:
        raise ValidationFailed(f"billing_day: already {old_day}", field="billing_day")
    upcoming = sql.open_periods_from(conn, customer_id, today)
    if any(period["period_start"] <= today for period in upcoming):
        raise InvalidState("A billing period that has begun is still to bill; run the billing first.")
    current = sql.last_period(conn, customer_id)
    period = None if current is None else (current["period_start"], current["period_end"])
    if period is not None and period[1] < today:
        raise InvalidState(
            f"The period from {period[1] + ONE_DAY} is still to bill; run the billing first.",
            current_status="unbilled_period",
        )
    plan = plan_change(period, today, new_day)
    credit = ZERO
    if period is not None:
        sql.drop_open_periods(conn, customer_id, today)  # a bridging period of an earlier change
        if plan.overlap is not None:
            first = plan.overlap[0]
            credit = -sum(
                (
                    pro_rata(
                        line["monthly_price"],
                        days_in_period(max(first, line["period_start"]), line["period_end"]),
                        line["days_in_period"],
                    )
                    for line in sql.charge_lines_of(conn, customer_id, period[0])
                    if line["period_end"] >= first
                ),
                ZERO,
            )
        if plan.current_end is not None and plan.current_end != period[1]:
            sql.end_period(conn, customer_id, period[0], plan.current_end)
        if plan.bridging_period is not None:
            bridging_end = plan.bridging_period[1]
            basis = days_in_period(*period_containing(bridging_end, new_day))
            sql.record_bridging_period(conn, customer_id, *plan.bridging_period, basis)
    sql.set_billing_day(conn, customer_id, new_day)
    return BillingDayChange(
        customer_id=UUID(str(customer_id)),
        old_day=old_day,
        new_day=new_day,
        next_billing_date=plan.next_billing_date,
        current_period=None if period is None or plan.current_end is None else (period[0], plan.current_end),
        bridging_period=plan.bridging_period,
        overlap=plan.overlap,
        overlap_credit=credit,
    )
