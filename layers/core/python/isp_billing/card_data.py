"""Card data is never accepted (PCI DSS): a request body carrying a card number or a security code is refused.

A card number is any run of 13 to 19 digits (single spaces or dashes allowed between digits) that passes the
Luhn check, in any string or number anywhere in the body, whatever the field. Bank account numbers are at
most 11 digits, branch codes 6, so neither can trip it. Keys that name card data (cvv, cvc, pan,
card_number, ...) are refused whatever their value. Messages name the field, never the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request

from isp_billing.errors import ValidationFailed

_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")
_FORBIDDEN_KEYS = frozenset(
    {
        "cvv",
        "cvv2",
        "cvc",
        "cvc2",
        "cid",
        "csc",
        "securitycode",
        "cardsecuritycode",
        "cardverificationvalue",
        "cardverificationcode",
        "cardnumber",
        "cardno",
        "ccnumber",
        "creditcardnumber",
        "pan",
        "primaryaccountnumber",
    }
)
CARD_DATA_REFUSED = (
    "Card numbers and card security codes are never accepted. Add a card through the payment provider and "
    "send its token, brand, last 4 digits and expiry."
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def contains_card_number(text: str) -> bool:
    for match in _CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def _normalised_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _walk(value: Any, path: str, forbidden_key: bool = False) -> Iterator[tuple[str, Any, bool]]:
    """(field path, value, named-for-card-data) for every node of a JSON document."""
    yield path or "body", value, forbidden_key
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield from _walk(item, child, _normalised_key(str(key)) in _FORBIDDEN_KEYS)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def card_data_fields(document: Any) -> list[str]:
    """The paths of fields that carry (or are named for) card data; empty when the document is clean."""
    found: set[str] = set()
    for path, value, forbidden_key in _walk(document, ""):
        scalar = isinstance(value, str | int) and not isinstance(value, bool)
        if forbidden_key or (scalar and contains_card_number(str(value))):
            found.add(path)
    return sorted(found)


def refuse_card_data(document: Any) -> None:
    fields = card_data_fields(document)
    if fields:
        raise ValidationFailed(CARD_DATA_REFUSED, fields=fields)


async def _refuse_card_data_in_body(request: Request) -> None:
    raw = await request.body()
    if not raw:
        return
    try:
        document = json.loads(raw)
    except ValueError:
        # Not JSON: scan the text as it is; the body model then reports the syntax error.
        document = raw.decode("utf-8", errors="replace")
    refuse_card_data(document)


NoCardData = Annotated[None, Depends(_refuse_card_data_in_body)]
"""Dependency for any endpoint with a body: refuses card numbers and CVVs before anything else runs."""
