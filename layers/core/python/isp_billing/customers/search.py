"""GET /api/admin/customers: find a customer by name, e-mail, phone, account number or account status."""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID

from isp_billing.clock import sast_today
from isp_billing.customers import search_sql
from isp_billing.customers.admin_models import CustomerListItem
from isp_billing.db import Connection
from isp_billing.errors import ValidationFailed
from isp_billing.pagination import Page, decode_cursor, page_of

_WORD = re.compile(r"[^\s,]+")
MAX_NAME_WORDS = 4


def phone_prefix(text: str) -> str:
    """What a typed phone number starts with in E.164: `082 12` -> `+278212`, `27 82` -> `+2782`."""
    digits = re.sub(r"[\s\-().]", "", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if not re.fullmatch(r"\+?[0-9]{2,15}", digits):
        raise ValidationFailed(
            "phone: digits only (with an optional leading + or 0), at least two.", field="phone"
        )
    if digits.startswith("+"):
        return digits
    if digits.startswith("0"):
        return "+27" + digits[1:]
    return "+" + digits


def search(
    conn: Connection,
    *,
    name: str | None,
    email: str | None,
    phone: str | None,
    account_number: str | None,
    status: str | None,
    is_test: bool | None,
    cursor: str | None,
    limit: int,
) -> Page[CustomerListItem]:
    words = tuple(_WORD.findall(name or ""))
    if len(words) > MAX_NAME_WORDS:
        raise ValidationFailed(f"name: at most {MAX_NAME_WORDS} words.", field="name")
    criteria = search_sql.Criteria(
        name_words=words,
        email_prefix=email,
        phone_prefix=phone_prefix(phone) if phone is not None else None,
        account_prefix=account_number,
        status=status,
        is_test=is_test,
    )
    after = decode_cursor(cursor, datetime.fromisoformat, UUID) if cursor else None
    rows = search_sql.search(conn, criteria, today=sast_today(), after=after, limit=limit)
    items, next_cursor = page_of(rows, limit, key=lambda row: (row["created_at"], row["id"]))
    return Page[CustomerListItem](
        items=[CustomerListItem.model_validate(row) for row in items], next_cursor=next_cursor
    )
