from decimal import Decimal

import pytest
from pydantic import BaseModel

from isp_billing.money import Money, pro_rata, to_cents, vat_from_inclusive


def test_half_cents_round_up_not_to_even():
    # Given amounts exactly halfway between two cents
    # When they are quantized
    # Then they round away from zero (VAT Act s66), not to even as Python does by default
    assert to_cents(Decimal("0.125")) == Decimal("0.13")
    assert to_cents(Decimal("2.665")) == Decimal("2.67")


def test_float_is_refused():
    # Given a float amount / When it is turned into money / Then it is refused
    with pytest.raises(TypeError):
        to_cents(0.1)  # type: ignore[arg-type]


def test_vat_is_extracted_from_an_inclusive_total():
    # Given a R799 VAT-inclusive total at 15%
    # When VAT is extracted
    vat = vat_from_inclusive(Decimal("799.00"), Decimal("15"))
    # Then VAT is 104.22 and the subtotal is the rest, adding back up exactly
    assert vat == Decimal("104.22")
    assert Decimal("799.00") - vat + vat == Decimal("799.00")


def test_pro_rata_uses_the_days_of_the_billing_period():
    # Given billing day 25, R699, activated 10 February: period 25 Jan - 24 Feb has 31 days, 15 used
    # When the first partial period is priced
    # Then it is 699 x 15 / 31 = 338.23 (domain.md's worked example), not divided by February's 28
    assert pro_rata(Decimal("699.00"), 15, 31) == Decimal("338.23")


def test_pro_rata_refuses_days_outside_the_period():
    with pytest.raises(ValueError):
        pro_rata(Decimal("699.00"), 32, 31)


def test_money_is_a_string_with_two_decimals_in_json():
    # Given a model with a Money field
    class Line(BaseModel):
        amount: Money

    # When it is serialised to JSON / Then the amount is a string, never a JSON number
    assert Line(amount=Decimal("799")).model_dump_json() == '{"amount":"799.00"}'
    assert Line.model_json_schema()["properties"]["amount"]["type"] == "string"
