"""Pure rules for a customer's contact and business details: phone numbers, e-mail, VAT numbers, addresses.

Each function either returns the value as it is stored or raises PydanticCustomError, so a model validator
turns it into a 422 naming the field (never echoing the value).
"""

from __future__ import annotations

import re

from pydantic_core import PydanticCustomError

E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
# A South African number written the local way: a 0 and nine digits (082 123 4567, 011 555 1234).
_ZA_LOCAL = re.compile(r"^0[1-9][0-9]{8}$")
# One @, something on each side, a dot in the domain, no spaces; the mailbox itself is for the mail server.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
# SARS VAT registration numbers are ten digits starting with 4.
VAT_NUMBER = re.compile(r"^4[0-9]{9}$")
POSTAL_CODE = re.compile(r"^[0-9]{4}$")


def normalise_phone(value: str) -> str:
    """An E.164 number (+27821234567). A South African local number (082 123 4567) becomes +27...;
    spaces, dashes, dots and brackets are dropped; anything else is refused."""
    compact = _PHONE_PUNCTUATION.sub("", value)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if _ZA_LOCAL.match(compact):
        compact = "+27" + compact[1:]
    if not E164.match(compact):
        raise PydanticCustomError(
            "phone_number",
            "must be a phone number in E.164 form (+27821234567) or a South African number (0821234567)",
        )
    return compact


def normalise_email(value: str) -> str:
    """Trimmed, shaped like an address; the case is kept (uniqueness ignores it, as the index does)."""
    email = value.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise PydanticCustomError("email_address", "must be an e-mail address (name@example.co.za)")
    return email


def check_vat_number(value: str) -> str:
    compact = value.replace(" ", "")
    if not VAT_NUMBER.match(compact):
        raise PydanticCustomError(
            "vat_number", "must be a South African VAT number: 10 digits starting with 4"
        )
    return compact


def check_postal_code(value: str) -> str:
    if not POSTAL_CODE.match(value):
        raise PydanticCustomError("postal_code", "must be a South African postal code: 4 digits")
    return value


def business_details_problem(
    customer_type: str, company_name: str | None, vat_number: str | None
) -> str | None:
    """Why these business details do not fit the customer type, or None when they do: a business names its
    company (a VAT number is optional: not every business is a VAT vendor); a consumer has neither."""
    if customer_type == "business" and not company_name:
        return "A business customer needs a company_name."
    if customer_type == "consumer" and (company_name or vat_number):
        return "A consumer has no company_name or vat_number; make the customer a business first."
    return None


def without_empty_parts(values: dict[str, object]) -> dict[str, object]:
    """Requested changes as stored: an address's unset parts are left out (an address is an object of the
    parts given)."""
    return {
        key: {part: text for part, text in value.items() if text is not None}
        if isinstance(value, dict)
        else value
        for key, value in values.items()
    }
