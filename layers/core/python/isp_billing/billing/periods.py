"""Billing periods (domain.md): a period runs from a billing date to the day before the next billing date.

`customer_billing.billing_day` is 1-31; in a month without that day the billing date is the month's last day
(billing day 31 in February is the 28th, or the 29th in a leap year). Days are whole SAST days counted
inclusively, so a period has 28 to 31 days.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache


def _check_billing_day(billing_day: int) -> None:
    if not 1 <= billing_day <= 31:
        raise ValueError("billing_day must be between 1 and 31")


@lru_cache(maxsize=4096)
def billing_date_in(year: int, month: int, billing_day: int) -> date:
    """The billing date of a month: the billing day, or the month's last day when it has no such day."""
    _check_billing_day(billing_day)
    return date(year, month, min(billing_day, calendar.monthrange(year, month)[1]))


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


@lru_cache(maxsize=65536)
def period_containing(day: date, billing_day: int) -> tuple[date, date]:
    """(period_start, period_end) of the billing period that contains `day`, both inclusive."""
    this_month = billing_date_in(day.year, day.month, billing_day)
    if day >= this_month:
        start = this_month
    else:
        start = billing_date_in(*_shift_month(day.year, day.month, -1), billing_day)
    next_start = billing_date_in(*_shift_month(start.year, start.month, 1), billing_day)
    return start, next_start - timedelta(days=1)


def days_in_period(period_start: date, period_end: date) -> int:
    """Whole days from start to end, both counted."""
    return (period_end - period_start).days + 1
