"""Money's boundaries (issue 10, section 6): whole and empty periods, zero and negative amounts, the inputs
to_cents accepts. Each test pins a rule a mutant of money.py would break."""

from decimal import Decimal

import pytest
from pydantic import BaseModel

from isp_billing.money import Money, format_money, pro_rata, to_cents, vat_from_inclusive


def test_to_cents_accepts_ints_and_strings_and_always_gives_two_decimals():
    # Given amounts as an int, a string and a Decimal with more places
    # When each is quantized
    # Then each is a Decimal with exactly two decimals
    for value, expected in [(5, "5.00"), ("12.3", "12.30"), (Decimal("7.004"), "7.00")]:
        cents = to_cents(value)
        assert isinstance(cents, Decimal)
        assert str(cents) == expected


def test_negative_half_cents_round_away_from_zero():
    # Given a credit exactly halfway between two cents / When quantized / Then it rounds away from zero
    assert to_cents(Decimal("-0.125")) == Decimal("-0.13")
    assert to_cents(Decimal("-0.124")) == Decimal("-0.12")


def test_vat_at_a_zero_rate_is_nothing_and_at_15_percent_of_115_is_15():
    # Given a zero-rated total and a total whose VAT is exactly R15
    # When VAT is extracted / Then it is 0.00 and 15.00
    assert vat_from_inclusive(Decimal("799.00"), Decimal("0")) == Decimal("0.00")
    assert vat_from_inclusive(Decimal("115.00"), Decimal("15")) == Decimal("15.00")


def test_vat_is_rounded_half_up_to_cents():
    # Given R100 inclusive at 15%: 100 x 15 / 115 = 13.0434...
    # When VAT is extracted / Then it is 13.04, quantized
    assert str(vat_from_inclusive(Decimal("100"), Decimal("15"))) == "13.04"


def test_pro_rata_over_the_whole_period_is_the_full_price():
    # Given every day of a 31-day and of a 28-day period used
    # When priced / Then the charge is the monthly price itself
    assert pro_rata(Decimal("699.00"), 31, 31) == Decimal("699.00")
    assert pro_rata(Decimal("699.00"), 28, 28) == Decimal("699.00")


def test_pro_rata_of_no_days_is_nothing():
    assert pro_rata(Decimal("699.00"), 0, 31) == Decimal("0.00")


def test_pro_rata_of_one_day_rounds_half_up():
    # Given one day of 30 at R100: 3.3333...
    # When priced / Then 3.33; and one day of 8 at R0.20 is 0.025, which rounds up to 0.03
    assert pro_rata(Decimal("100.00"), 1, 30) == Decimal("3.33")
    assert pro_rata(Decimal("0.20"), 1, 8) == Decimal("0.03")


@pytest.mark.parametrize(("days_used", "days_in_period"), [(-1, 31), (32, 31), (0, 0), (1, 0), (0, -1)])
def test_pro_rata_refuses_days_outside_the_period_and_empty_periods(days_used, days_in_period):
    # Given days before the period, past its end, or a period with no days
    # When priced / Then it is refused with ValueError (never a division error or a negative charge)
    with pytest.raises(ValueError, match="within the period"):
        pro_rata(Decimal("699.00"), days_used, days_in_period)


def test_format_money_rounds_then_shows_two_decimals():
    assert format_money(Decimal("799")) == "799.00"
    assert format_money(Decimal("1.005")) == "1.01"
    assert format_money(Decimal("-3.5")) == "-3.50"


def test_money_stays_a_decimal_in_python_and_is_a_string_only_in_json():
    # Given a model with a Money field
    class Line(BaseModel):
        amount: Money

    line = Line(amount=Decimal("12.5"))
    # When dumped for Python and for JSON
    # Then Python keeps the Decimal, JSON gets the two-decimal string matching the schema's pattern
    assert line.model_dump()["amount"] == Decimal("12.5")
    assert line.model_dump(mode="json")["amount"] == "12.50"
    schema = Line.model_json_schema()["properties"]["amount"]
    assert schema["pattern"] == r"^-?\d+\.\d{2}$"
