"""The one text type of the API: every free-text field of a request body and every text query parameter.

    reason: ReasonText
    notes: NotesText | None = None
    source: Annotated[FilterText | None, Query(...)] = None
    # another size: Annotated[str, StringConstraints(strip_whitespace=True, max_length=N), SINGLE_LINE]

What it guarantees, before any service, provider or SQL sees the value (a 422 otherwise, naming the field,
never echoing the value):
- surrounding whitespace is trimmed, then the length is bounded (at least `min_length`, default 1: a blank
  string is refused rather than stored as "");
- no control character: C0 (U+0000-U+001F, NUL included: PostgreSQL text cannot hold it), DEL, C1
  (U+0080-U+009F). Multi-line text (notes) keeps line feeds and tabs (a Windows CR LF becomes LF first); a
  lone CR is refused, since it rewrites a terminal or log line;
- no lone surrogate (not encodable as UTF-8, so not storable), no noncharacter U+FFFE/U+FFFF, no line or
  paragraph separator in a single-line field, no bidirectional override or isolate (they make a name display
  as something else: "Trojan Source");
- no card number (a Luhn-valid run of 13-19 digits, whatever punctuation or spacing separates them).

`TextRule` (inside an AfterValidator) is the marker tests look for: a route's str field or query parameter
without it fails the suite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

from isp_billing.card_data import contains_card_number

# Cc (C0, DEL, C1) and the lone surrogates.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]")
_MULTILINE_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]"
)
_LINE_SEPARATORS = re.compile(r"[\u2028\u2029]")


@dataclass(frozen=True)
class TextRule:
    """Refuses what the API's text may not hold (see the module docstring); `multiline` keeps LF and TAB."""

    multiline: bool = False

    def __call__(self, value: str) -> str:
        if self.multiline:
            value = value.replace("\r\n", "\n")
            bad = _MULTILINE_CONTROL.search(value)
        else:
            bad = _CONTROL.search(value) or _LINE_SEPARATORS.search(value)
        if bad is not None:
            raise PydanticCustomError(
                "text_control_character",
                "must not contain control or invisible formatting characters (found U+{code})",
                {"code": f"{ord(bad.group()):04X}"},
            )
        if contains_card_number(value):
            raise PydanticCustomError(
                "text_card_number",
                "must not contain a card number: cards are added through the payment provider",
            )
        return value


SINGLE_LINE = AfterValidator(TextRule(multiline=False))
MULTI_LINE = AfterValidator(TextRule(multiline=True))


def _bounded(min_length: int, max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


# The sizes the API uses (mypy needs plain aliases, not calls, in annotations).
DisplayNameText = Annotated[str, _bounded(1, 60), SINGLE_LINE]
"""A customer's own label for something (a payment method)."""
BankNameText = Annotated[str, _bounded(2, 60), SINGLE_LINE]
PersonNameText = Annotated[str, _bounded(2, 100), SINGLE_LINE]
"""A person's or account holder's name."""
ReasonText = Annotated[str, _bounded(1, 500), SINGLE_LINE]
"""Why an action was taken, one line, kept in the audit log."""
NoteText = Annotated[str, _bounded(1, 500), MULTI_LINE]
"""A person's note on closing a record."""
NotesText = Annotated[str, _bounded(1, 2000), MULTI_LINE]
"""Free text for colleagues."""
FilterText = Annotated[str, _bounded(1, 64), SINGLE_LINE]
"""A text query parameter that filters a list (e.g. a source name)."""
TokenText = Annotated[str, _bounded(0, 512), SINGLE_LINE]
"""A secret passed in a URL (a webhook's token): compared, never stored."""
PaymentReferenceText = Annotated[str, _bounded(1, 60), SINGLE_LINE]
"""A bank or cash-slip reference for a payment, as the bank statement shows it."""
