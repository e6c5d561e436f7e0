"""SQL for validation_errors (records a job could not handle, kept for a person to fix)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from isp_billing.db import Connection


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
        """
        select id, source, record_type, record_id, record_ref, error_code, message, suggested_fix, payload,
               resolved_at, resolved_by, created_at
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
