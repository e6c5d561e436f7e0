"""Billing periods (domain.md "Billing periods"): billing date to the day before the next billing date."""

from datetime import date

import pytest

from isp_billing.billing.periods import billing_date_in, days_in_period, period_containing


@pytest.mark.parametrize(
    ("year", "month", "billing_day", "expected"),
    [
        (2026, 1, 31, date(2026, 1, 31)),
        (2026, 2, 31, date(2026, 2, 28)),  # no 31st in February: its last day
        (2028, 2, 31, date(2028, 2, 29)),  # leap year
        (2026, 2, 30, date(2026, 2, 28)),
        (2026, 4, 31, date(2026, 4, 30)),
        (2026, 6, 5, date(2026, 6, 5)),
        (2026, 12, 1, date(2026, 12, 1)),
    ],
)
def test_the_billing_date_of_a_month_falls_back_to_its_last_day(year, month, billing_day, expected):
    # Given a month and a billing day / When its billing date is asked / Then it is that day or the last one
    assert billing_date_in(year, month, billing_day) == expected


def test_domain_worked_example_billing_day_25_activated_10_february():
    # Given billing day 25 and a day inside February
    # When the period containing 10 February is asked
    start, end = period_containing(date(2026, 2, 10), 25)
    # Then it is 25 Jan to 24 Feb: 31 days (not the 28 days of February)
    assert (start, end) == (date(2026, 1, 25), date(2026, 2, 24))
    assert days_in_period(start, end) == 31


@pytest.mark.parametrize(
    ("day", "billing_day", "expected_start", "expected_end", "expected_days"),
    [
        # billing day 1: calendar months
        (date(2026, 2, 1), 1, date(2026, 2, 1), date(2026, 2, 28), 28),
        (date(2026, 2, 28), 1, date(2026, 2, 1), date(2026, 2, 28), 28),
        (date(2028, 2, 15), 1, date(2028, 2, 1), date(2028, 2, 29), 29),
        (date(2026, 12, 31), 1, date(2026, 12, 1), date(2026, 12, 31), 31),
        # billing day 5: a day before the 5th belongs to the previous month's period
        (date(2026, 3, 4), 5, date(2026, 2, 5), date(2026, 3, 4), 28),
        (date(2026, 3, 5), 5, date(2026, 3, 5), date(2026, 4, 4), 31),
        (date(2026, 1, 2), 5, date(2025, 12, 5), date(2026, 1, 4), 31),
        # billing day 25
        (date(2026, 12, 25), 25, date(2026, 12, 25), date(2027, 1, 24), 31),
        (date(2028, 3, 1), 25, date(2028, 2, 25), date(2028, 3, 24), 29),
        # billing day 30: February's period starts on the 28th (29th in a leap year)
        (date(2026, 2, 28), 30, date(2026, 2, 28), date(2026, 3, 29), 30),
        (date(2026, 2, 27), 30, date(2026, 1, 30), date(2026, 2, 27), 29),
        (date(2028, 2, 29), 30, date(2028, 2, 29), date(2028, 3, 29), 30),
        # billing day 31
        (date(2026, 1, 31), 31, date(2026, 1, 31), date(2026, 2, 27), 28),
        (date(2026, 2, 28), 31, date(2026, 2, 28), date(2026, 3, 30), 31),
        (date(2026, 3, 30), 31, date(2026, 2, 28), date(2026, 3, 30), 31),
        (date(2026, 3, 31), 31, date(2026, 3, 31), date(2026, 4, 29), 30),
        (date(2026, 4, 30), 31, date(2026, 4, 30), date(2026, 5, 30), 31),
        (date(2028, 2, 29), 31, date(2028, 2, 29), date(2028, 3, 30), 31),
        (date(2028, 2, 28), 31, date(2028, 1, 31), date(2028, 2, 28), 29),
    ],
)
def test_the_period_containing_a_day(day, billing_day, expected_start, expected_end, expected_days):
    # Given a day and a billing day / When the period containing it is asked
    start, end = period_containing(day, billing_day)
    # Then it runs from the billing date to the day before the next one, both days counted
    assert (start, end) == (expected_start, expected_end)
    assert days_in_period(start, end) == expected_days
    assert start <= day <= end


@pytest.mark.parametrize("billing_day", [1, 5, 25, 30, 31])
def test_periods_tile_two_years_without_gap_or_overlap(billing_day):
    # Given every day of 2027 and 2028 (a leap year)
    day, previous_end = date(2027, 1, 1), None
    while day < date(2029, 1, 1):
        # When the period of each day is asked
        start, end = period_containing(day, billing_day)
        # Then consecutive periods touch: the next starts the day after the previous ended
        if previous_end is not None and start > previous_end:
            assert (start - previous_end).days == 1
        assert 28 <= days_in_period(start, end) <= 31
        previous_end = end
        day = date.fromordinal(day.toordinal() + 1)


@pytest.mark.parametrize("billing_day", [0, 32, -1])
def test_a_billing_day_outside_1_to_31_is_refused(billing_day):
    with pytest.raises(ValueError, match="billing_day"):
        period_containing(date(2026, 1, 1), billing_day)
