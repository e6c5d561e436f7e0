"""Card data is never accepted (PCI DSS): a request body carrying a card number or a security code is refused.

A card number is any run of 13 to 19 digits that passes the Luhn check, the digits separated by nothing or by
up to two characters of punctuation or spacing each (`4111 1111 1111 1111`, `4111.1111.1111.1111`,
`4111/1111/1111/1111`, `4111_1111_1111_1111`, double spaces, mixed), in any string or number anywhere in the
body, whatever the field. Letters end a run, so tokens and references glued to letters are not mistaken.
Bank account numbers are at most 11 digits, branch codes 6, so neither can trip it. Keys that name card
data (cvv, cvc, pan, card_number, ...) are refused whatever their value.
Messages name the field, never the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request

from isp_billing.errors import ValidationFailed

# A run of digit groups, each separator any non-alphanumeric character (`[\W_]`: punctuation, spacing,
# symbols), at most two in a row; atomic, so a run glued to a letter is not shortened into a match.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])(?>\d(?:[\W_]{0,2}\d)*)(?![0-9A-Za-z])")
_SEPARATORS = re.compile(r"[\W_]+")
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
    """Whether `text` holds a Luhn-valid 13-19 digit number: a whole run of digit groups, or consecutive
    groups inside a longer run (`ref 1234 4111 1111 1111 1111`)."""
    for match in _DIGIT_RUN.finditer(text):
        groups = _SEPARATORS.split(match.group())
        for first in range(len(groups)):
            digits = ""
            for group in groups[first:]:
                digits += group
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and luhn_valid(digits):
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
