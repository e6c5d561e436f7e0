"""SQL for validation_errors (records a job could not handle, kept for a person to fix)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from isp_billing.db import Connection

_COLUMNS = """
    id, source, record_type, record_id, record_ref, error_code, message, suggested_fix, payload,
    resolved_at, resolved_by, resolution_note, created_at
"""


def list_page(
    conn: Connection,
    *,
    source: str | None,
    resolved: bool | None,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> list[dict[str, Any]]:
    """Newest first; `limit + 1` rows so the caller can tell whether there is a next page."""
    return conn.execute(
        f"""
        select {_COLUMNS}
          from validation_errors
         where (%(source)s::text is null or source = %(source)s)
           and (%(resolved)s::boolean is null or (resolved_at is not null) = %(resolved)s)
           and (%(after_at)s::timestamptz is null or (created_at, id) < (%(after_at)s, %(after_id)s::uuid))
         order by created_at desc, id desc
         limit %(limit)s
        """,
        {
            "source": source,
            "resolved": resolved,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit + 1,
        },
    ).fetchall()


def get(conn: Connection, error_id: UUID) -> dict[str, Any] | None:
    return conn.execute(f"select {_COLUMNS} from validation_errors where id = %s", (error_id,)).fetchone()


def mark_resolved(conn: Connection, error_id: UUID, admin_id: UUID, note: str) -> dict[str, Any] | None:
    """Close the error if it is still open; None when it does not exist or is resolved already.

    The condition is re-checked after waiting for a concurrent update's row lock (READ COMMITTED), so of
    two admins resolving at once exactly one gets the row back.
    """
    return conn.execute(
        f"""
        update validation_errors
           set resolved_at = now(), resolved_by = %s, resolution_note = %s
         where id = %s and resolved_at is null
        returning {_COLUMNS}
        """,
        (admin_id, note, error_id),
    ).fetchone()
