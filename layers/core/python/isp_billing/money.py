"""Money: Decimal only, quantized to cents with ROUND_HALF_UP (VAT Act s66), never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema

CENT = Decimal("0.01")


def to_cents(value: Decimal | int | str) -> Decimal:
    """Quantize to cents, half up. Refuses float so a binary fraction can never sneak into money."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def vat_from_inclusive(total: Decimal, rate_percent: Decimal) -> Decimal:
    """VAT contained in a VAT-inclusive total: round_half_up(total x rate / (100 + rate))."""
    return to_cents(total * rate_percent / (Decimal(100) + rate_percent))


def pro_rata(monthly_price: Decimal, days_used: int, days_in_period: int) -> Decimal:
    """A partial period's charge: round_half_up(price x days_used / days_in_period)."""
    if days_in_period <= 0 or not 0 <= days_used <= days_in_period:
        raise ValueError("days_used must lie within the period")
    return to_cents(monthly_price * days_used / days_in_period)


def format_money(value: Decimal) -> str:
    return f"{to_cents(value):.2f}"


# A rate in percent (VAT's 15.00) in API bodies: two decimals on the wire, like an amount.
RatePercent = Annotated[
    Decimal,
    PlainSerializer(format_money, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,3}\.\d{2}$", "examples": ["15.00"]}),
]

# Amounts in API bodies: Decimal inside, a string with two decimals on the wire ("799.00").
Money = Annotated[
    Decimal,
    PlainSerializer(format_money, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["799.00"]}),
]
