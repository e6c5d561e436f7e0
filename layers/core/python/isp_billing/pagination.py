"""Keyset (cursor) pagination for list endpoints: stable under inserts, cheap at any depth.

A cursor is an opaque, URL-safe encoding of the last row's sort key (e.g. created_at and id). Repositories
fetch `limit + 1` rows after the cursor; the extra row only says whether there is a next page.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Query
from pydantic import BaseModel, Field, StringConstraints

from isp_billing.errors import ValidationFailed

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")]
# URL-safe base64 only: anything else (NUL, control characters, padding) is a 422 before decoding.
CursorText = Annotated[str, StringConstraints(min_length=1, max_length=512, pattern=r"^[A-Za-z0-9_-]+$")]
Cursor = Annotated[
    CursorText | None,
    Query(
        description="Opaque: the `next_cursor` of the previous page, passed back unchanged (never built or "
        "read by a client; its content may change between versions). Omit it for the first page.",
        json_schema_extra={"format": "opaque"},
    ),
]


class Page(BaseModel, Generic[T]):
    items: list[T] = Field(description="This page's items, in the list's order; empty when there are none.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def encode_cursor(*key: Any) -> str:
    raw = json.dumps([_plain(part) for part in key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *parsers: Callable[[Any], Any]) -> tuple[Any, ...]:
    """The sort key a cursor carries, each part through its parser (e.g. datetime.fromisoformat, UUID).

    A cursor comes from the client, so anything may be in it: every part must be a string, an integer or
    null (what `encode_cursor` writes), and whatever a parser raises on a forged one (ValueError, TypeError,
    AttributeError, OverflowError ...) is the same 422, never a 500.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
        if not isinstance(parts, list) or len(parts) != len(parsers):
            raise ValueError("wrong shape")
        if not all(
            part is None or (isinstance(part, str | int) and not isinstance(part, bool)) for part in parts
        ):
            raise ValueError("wrong part types")
        return tuple(parse(part) for parse, part in zip(parsers, parts, strict=True))
    except Exception:
        raise ValidationFailed("The cursor is not valid; start again without it.", field="cursor") from None


def page_of(rows: Sequence[T], limit: int, key: Callable[[T], tuple[Any, ...]]) -> tuple[list[T], str | None]:
    """Split `limit + 1` fetched rows into this page and the cursor of the next (None when no more)."""
    items = list(rows[:limit])
    has_more = len(rows) > limit
    return items, (encode_cursor(*key(items[-1])) if has_more and items else None)
