"""Debit-order action dates: South African business days, NetCash's lead time per batch type, debit days.

A business day is Monday to Friday that is not a public holiday: `holidays.ZA` (which already moves a
Sunday holiday to the Monday and knows declared days such as 2024-05-29) plus the days an admin declares in
`declared_public_holidays`. NetCash processes a TwoDay batch on its action date only if it was uploaded
and authorised enough business days before (providers-netcash.md §6: +3 business days is the minimum
observed); that lead time is a setting per batch type, read here and nowhere else.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays

SATURDAY = 5
# A run never searches further than this for a business day: even Easter plus a declared week is far less.
_MAX_SEARCH_DAYS = 31


@lru_cache(maxsize=16)
def _za_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("ZA", years=year).keys())


@dataclass(frozen=True)
class BusinessCalendar:
    """Business days, given the extra days declared in the database."""

    declared: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def with_declared(cls, days: Iterable[date]) -> BusinessCalendar:
        return cls(frozenset(days))

    def is_public_holiday(self, day: date) -> bool:
        return day in self.declared or day in _za_holidays(day.year)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < SATURDAY and not self.is_public_holiday(day)

    def business_day_on_or_after(self, day: date) -> date:
        for offset in range(_MAX_SEARCH_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_business_day(candidate):
                return candidate
        raise ValueError(f"no business day within {_MAX_SEARCH_DAYS} days of {day}")  # pragma: no cover

    def add_business_days(self, day: date, count: int) -> date:
        """The `count`-th business day after `day` (0: `day` itself if a business day, else the next one)."""
        if count <= 0:
            return self.business_day_on_or_after(day)
        current = day
        for _ in range(count):
            current = self.business_day_on_or_after(current + timedelta(days=1))
        return current

    def earliest_action_date(self, run_date: date, lead_business_days: int) -> date:
        """The first action date a batch uploaded and authorised on `run_date` can carry."""
        return self.add_business_days(run_date, lead_business_days)


def debit_date_in_month(year: int, month: int, debit_day: int) -> date:
    """The debit day in a month; in a month without that day, the month's last day (like billing days)."""
    return date(year, month, min(debit_day, calendar.monthrange(year, month)[1]))


def mandated_date_on_or_after(day: date, debit_day: int) -> date:
    """The first debit-day date on or after `day` (before moving it to a business day)."""
    this_month = debit_date_in_month(day.year, day.month, debit_day)
    if this_month >= day:
        return this_month
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return debit_date_in_month(year, month, debit_day)


def next_mandated_date(after: date, debit_day: int) -> date:
    """The mandated date after a returned debit: PASA allows no resubmission before it."""
    return mandated_date_on_or_after(after + timedelta(days=1), debit_day)
