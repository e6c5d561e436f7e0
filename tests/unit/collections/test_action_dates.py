"""Action dates: South African business days, declared days, lead times and debit days."""

from datetime import date

import pytest

from isp_billing.collections.action_dates import (
    BusinessCalendar,
    debit_date_in_month,
    mandated_date_on_or_after,
    next_mandated_date,
)

CALENDAR = BusinessCalendar()


def test_weekends_are_not_business_days() -> None:
    # Given a Friday, a Saturday and a Sunday in an ordinary week of 2026
    # When each is checked / Then only the Friday is a business day, and Saturday rolls to Monday
    assert CALENDAR.is_business_day(date(2026, 3, 13))
    assert not CALENDAR.is_business_day(date(2026, 3, 14))
    assert not CALENDAR.is_business_day(date(2026, 3, 15))
    assert CALENDAR.business_day_on_or_after(date(2026, 3, 14)) == date(2026, 3, 16)


def test_a_sunday_holiday_moves_to_the_monday() -> None:
    # Given New Year's Day 2023 fell on a Sunday, so Monday 2 January 2023 was the public holiday
    # When 2 January 2023 is checked
    # Then it is a holiday and the first business day of 2023 is the 3rd
    assert date(2023, 1, 1).weekday() == 6
    assert not CALENDAR.is_business_day(date(2023, 1, 2))
    assert CALENDAR.business_day_on_or_after(date(2022, 12, 31)) == date(2023, 1, 3)


def test_holidays_za_knows_declared_days_and_the_table_adds_more() -> None:
    # Given 29 May 2024 (election day, declared; holidays.ZA has it) and an admin-declared 2026-06-15
    declared = BusinessCalendar.with_declared([date(2026, 6, 15)])
    # When both are checked
    # Then neither is a business day; without the table 2026-06-15 (a Monday) would be one
    assert not CALENDAR.is_business_day(date(2024, 5, 29))
    assert CALENDAR.is_business_day(date(2026, 6, 15))
    assert not declared.is_business_day(date(2026, 6, 15))
    # And Youth Day (Tue 16 June) follows, so the next business day after Friday the 12th is the 17th
    assert declared.add_business_days(date(2026, 6, 12), 1) == date(2026, 6, 17)


def test_lead_time_counts_business_days_over_easter() -> None:
    # Given Easter 2026: Good Friday 3 April, Family Day Monday 6 April
    # When a TwoDay batch (lead 3 business days) is uploaded on Wednesday 1 April
    # Then its earliest action date is Wednesday 8 April (Thu 2, Tue 7, Wed 8)
    assert CALENDAR.earliest_action_date(date(2026, 4, 1), 3) == date(2026, 4, 8)
    # And a same-day batch (lead 0) uploaded on Good Friday carries Tuesday 7 April
    assert CALENDAR.earliest_action_date(date(2026, 4, 3), 0) == date(2026, 4, 7)


@pytest.mark.parametrize(
    ("year", "month", "debit_day", "expected"),
    [
        (2026, 2, 31, date(2026, 2, 28)),
        (2028, 2, 30, date(2028, 2, 29)),
        (2026, 4, 31, date(2026, 4, 30)),
        (2026, 5, 1, date(2026, 5, 1)),
    ],
)
def test_debit_day_in_a_short_month_is_the_last_day(
    year: int, month: int, debit_day: int, expected: date
) -> None:
    # Given a debit day the month may not have / When the month's debit date is asked / Then it is capped
    assert debit_date_in_month(year, month, debit_day) == expected


def test_mandated_dates_never_retry_in_the_same_month() -> None:
    # Given debit day 25
    # When an invoice dated 20 January asks for its mandated date / Then it is 25 January
    assert mandated_date_on_or_after(date(2026, 1, 20), 25) == date(2026, 1, 25)
    # And one dated 26 January gets 25 February
    assert mandated_date_on_or_after(date(2026, 1, 26), 25) == date(2026, 2, 25)
    # And after a debit returned from action date 26 January (moved off a weekend), the next is 25 February
    assert next_mandated_date(date(2026, 1, 26), 25) == date(2026, 2, 25)
    # And after a December debit the next mandated date is in January of the next year
    assert next_mandated_date(date(2026, 12, 28), 25) == date(2027, 1, 25)
