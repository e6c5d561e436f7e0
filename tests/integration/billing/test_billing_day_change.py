"""A billing-day change: the recorded sequence of periods goes on without a day billed twice or lost."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest

from isp_billing import clock, db
from isp_billing.billing import billing_day
from isp_billing.errors import InvalidState, ValidationFailed
from tests.billing_helpers import billed_customer, invoices_of, run_billing

D = Decimal


def _at(day: date, hour: int = 2) -> Any:
    return clock.moved_to(datetime.combine(day, time(hour, 0), tzinfo=clock.SAST))


def _change(customer: str, new_day: int, on: date) -> billing_day.BillingDayChange:
    with _at(on, hour=10), db.service_session() as conn:
        return billing_day.change_billing_day(conn, customer, new_day)


def _covered(conn, customer: str, service: str) -> dict[date, D]:
    """Each day billed for the service: its share of the money (charge lines less credits), by day."""
    rows = conn.execute(
        """
        select l.kind, l.amount, l.period_start, l.period_end from invoice_line_items l
          join customer_invoices i on i.id = l.invoice_id
         where i.customer_id = %s and (l.service_id = %s or l.source->>'service_id' = %s::text)
        """,
        (customer, service, service),
    ).fetchall()
    days: dict[date, int] = {}
    for row in rows:
        sign = -1 if row["amount"] < 0 else 1
        day = row["period_start"]
        while day <= row["period_end"]:
            days[day] = days.get(day, 0) + sign
            day = date.fromordinal(day.toordinal() + 1)
    return days


def _periods(conn, customer: str) -> list[tuple[str, str]]:
    rows = conn.execute(
        "select period_start, period_end from billing_cycles where customer_id = %s order by period_start",
        (customer,),
    ).fetchall()
    return [(str(r["period_start"]), str(r["period_end"])) for r in rows]


def _live(days: list[date]) -> None:
    for day in days:
        with _at(day):
            run_billing()


def test_25_to_5_credits_the_overlap_so_5_to_24_february_is_billed_once(conn):
    # Given billing day 25, R699, invoiced 25 Jan - 24 Feb
    customer, (service,) = billed_customer(
        conn, billing_day=25, services=[{"price": "699.00", "activation_date": "2025-12-01"}]
    )
    _live([date(2026, 1, 25)])
    # When the billing day changes to 5 on 1 February
    change = _change(customer, 5, date(2026, 2, 1))
    _live([date(2026, 2, 5), date(2026, 2, 25), date(2026, 3, 5)])
    # Then the current period ends on 4 Feb; 5-24 Feb (20 of 31 days) is credited on the 5 Feb invoice
    assert change.next_billing_date == date(2026, 2, 5) and change.overlap_credit == D("-450.97")
    assert _periods(conn, customer) == [
        ("2026-01-25", "2026-02-04"),
        ("2026-02-05", "2026-03-04"),
        ("2026-03-05", "2026-04-04"),
    ]
    invoices = invoices_of(conn, customer)
    assert [str(i["total_amount"]) for i in invoices] == ["699.00", "248.03", "699.00"]
    # And every day from 25 Jan to 4 Apr is billed exactly once
    covered = _covered(conn, customer, service)
    assert all(count == 1 for count in covered.values()), covered
    assert min(covered) == date(2026, 1, 25) and max(covered) == date(2026, 4, 4)


def test_5_to_3_on_4_march_bills_a_bridging_period_so_5_march_to_2_april_is_not_lost(conn):
    # Given billing day 5, R699, invoiced 5 Feb - 4 Mar
    customer, (service,) = billed_customer(
        conn, billing_day=5, services=[{"price": "699.00", "activation_date": "2026-02-05"}]
    )
    _live([date(2026, 2, 5), date(2026, 3, 3)])
    # When the billing day changes to 3 on 4 March (the period's last day)
    change = _change(customer, 3, date(2026, 3, 4))
    _live([date(2026, 3, 5), date(2026, 4, 3), date(2026, 4, 5)])
    # Then 5 Mar - 2 Apr is a bridging period of its own, billed on 5 March: 29 of 3 Mar - 2 Apr's 31 days
    assert change.next_billing_date == date(2026, 4, 3) and change.bridging_period == (
        date(2026, 3, 5),
        date(2026, 4, 2),
    )
    assert _periods(conn, customer) == [
        ("2026-02-05", "2026-03-04"),
        ("2026-03-05", "2026-04-02"),
        ("2026-04-03", "2026-05-02"),
    ]
    assert [str(i["total_amount"]) for i in invoices_of(conn, customer)] == ["699.00", "653.90", "699.00"]
    covered = _covered(conn, customer, service)
    assert all(count == 1 for count in covered.values()), covered
    assert len(covered) == (date(2026, 5, 2) - date(2026, 2, 5)).days + 1


@pytest.mark.parametrize(
    ("old_day", "new_day", "history", "changed_on", "later"),
    [
        # 31 -> 1 at the end of a leap February (billing date 29 Feb), changed on the billing date itself
        (
            31,
            1,
            [date(2028, 1, 31), date(2028, 2, 29)],
            date(2028, 2, 29),
            [date(2028, 3, 1), date(2028, 4, 1)],
        ),
        # 1 -> 30 changed on 1 Feb, the billing date itself: February has no 30th (28 Feb is the date)
        (
            1,
            30,
            [date(2026, 1, 1), date(2026, 2, 1)],
            date(2026, 2, 1),
            [date(2026, 2, 28), date(2026, 3, 30)],
        ),
        # 29 -> 31 in a common year, changed on 10 Feb: the 28th is February's billing date for both
        (29, 31, [date(2026, 1, 29)], date(2026, 2, 10), [date(2026, 2, 28), date(2026, 3, 31)]),
        # 30 -> 2 on 31 Jan: 2-27 Feb of the invoiced 30 Jan - 27 Feb is credited
        (
            30,
            2,
            [date(2026, 1, 30)],
            date(2026, 1, 31),
            [date(2026, 2, 2), date(2026, 3, 2), date(2026, 4, 2)],
        ),
        # 2 -> 30 on 3 Jan: 30 Jan - 1 Feb of the invoiced 2 Jan - 1 Feb is credited
        (
            2,
            30,
            [date(2026, 1, 2)],
            date(2026, 1, 3),
            [date(2026, 1, 30), date(2026, 2, 2), date(2026, 2, 28)],
        ),
        # 30 -> 28 on 29 Jan, the period's last day: bridging 30 Jan - 27 Feb, 29 of 28 Jan - 27 Feb's 31 days
        (
            30,
            28,
            [date(2025, 12, 30)],
            date(2026, 1, 29),
            [date(2026, 1, 30), date(2026, 2, 28), date(2026, 3, 28)],
        ),
    ],
)
def test_a_change_around_month_ends_bills_every_day_once(conn, old_day, new_day, history, changed_on, later):
    # Given a R600 service billed on the old day
    customer, (service,) = billed_customer(
        conn, billing_day=old_day, services=[{"price": "600.00", "activation_date": "2025-11-01"}]
    )
    _live(history)
    # When the day changes, and the runs go on
    _change(customer, new_day, changed_on)
    _live(later)
    # Then the recorded periods follow each other without gap or overlap, and no day is billed twice or lost
    periods = _periods(conn, customer)
    for (_, end), (start, _) in pairwise(periods):
        assert date.fromisoformat(start) == date.fromordinal(date.fromisoformat(end).toordinal() + 1), periods
    covered = _covered(conn, customer, service)
    assert all(count == 1 for count in covered.values()), covered
    first, last = date.fromisoformat(periods[0][0]), date.fromisoformat(periods[-1][1])
    assert sorted(covered) == [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]


def test_a_change_is_refused_while_a_run_is_billing_the_customer(conn):
    # Given a customer locked by a billing run's transaction (the run's per-customer mutex, on another
    # connection)
    customer, _ = billed_customer(conn, billing_day=5)
    with conn.transaction():
        conn.execute("select 1 from customers where id = %s for no key update", (customer,))
        # When the billing day is changed / Then it is refused (409) at once, not after the run
        with pytest.raises(InvalidState, match="billing run"), db.service_session() as other:
            billing_day.change_billing_day(other, customer, 20)
    # And nothing changed
    row = conn.execute("select billing_day from customer_billing where customer_id = %s", (customer,))
    assert row.fetchone()["billing_day"] == 5


def test_a_billing_day_out_of_range_or_unchanged_is_refused(conn):
    customer, _ = billed_customer(conn, billing_day=5)
    for bad in (0, 32, 5):
        with pytest.raises(ValidationFailed), db.service_session() as other:
            billing_day.change_billing_day(other, customer, bad)
