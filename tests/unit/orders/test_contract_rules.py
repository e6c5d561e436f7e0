"""The fixed-term rules: months left of a term and the bounded early-termination charge."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from isp_billing.orders.contracts import add_months, early_termination_amount, months_remaining

prices = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("99999.99"), places=2)
percents = st.decimals(min_value=Decimal("0"), max_value=Decimal("75"), places=2)
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


def test_months_left_count_whole_and_part_months():
    # Given a 24-month term from 1 March 2026 (it ends 29 February 2028)
    end = add_months(date(2026, 3, 1), 24) - timedelta(days=1)
    assert end == date(2028, 2, 29)
    # Then: the last day is the term's last day: none left; a day before: one (part) month; six months in: 18
    assert months_remaining(end, end) == 0
    assert months_remaining(end - timedelta(days=1), end) == 1
    assert months_remaining(date(2026, 8, 31), end) == 18
    assert months_remaining(date(2026, 3, 1), end) == 24


def test_the_worked_example_half_the_price_for_at_most_twelve_months():
    # R699, 17 months left, 50 %, at most 12: 699 x 0.5 x 12 = R4194.00
    assert early_termination_amount(Decimal("699.00"), 17, Decimal("50"), 12) == Decimal("4194.00")
    # 3 months left: 699 x 0.5 x 3 = 1048.50
    assert early_termination_amount(Decimal("699.00"), 3, Decimal("50"), 12) == Decimal("1048.50")


@given(price=prices, left=st.integers(min_value=0, max_value=60), percent=percents, cap=st.integers(0, 60))
def test_the_charge_is_cents_never_negative_and_never_more_than_the_fees_left(price, left, percent, cap):
    amount = early_termination_amount(price, left, percent, cap)
    assert amount == amount.quantize(Decimal("0.01")) and amount >= 0
    # Regulation 5(3): never as much as paying out the rest of the term (at most 75 % of it, bounded by cap)
    assert amount <= (price * left * Decimal("0.75")).quantize(Decimal("0.01")) + Decimal("0.01")
    assert amount <= (price * cap * percent / 100).quantize(Decimal("0.01")) + Decimal("0.01")


@given(
    start=days, months=st.integers(min_value=1, max_value=60), offset=st.integers(min_value=0, max_value=2000)
)
def test_months_left_never_exceed_the_term_and_fall_as_time_passes(start, months, offset):
    end = add_months(start, months) - timedelta(days=1)
    last = start + timedelta(days=offset)
    left = months_remaining(last, end)
    assert 0 <= left <= months
    assert months_remaining(last + timedelta(days=1), end) <= left
    assert (left == 0) == (last >= end)
