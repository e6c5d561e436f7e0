"""SQL for service_action_log (append-only: insert and read, nothing else)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from isp_billing.db import Connection

_ENTRY = """
    select l.id, l.service_id, l.customer_id, l.action, l.previous_status, l.new_status, l.reason, l.notes,
           l.actor_type, l.actor_admin_id, a.full_name as actor_name, a.email as actor_email,
           l.request_id, l.previous_data, l.new_data, l.details, l.created_at
      from service_action_log l
      left join admin_users a on a.id = l.actor_admin_id
"""


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str)


def insert(
    conn: Connection,
    *,
    service_id: UUID,
    customer_id: UUID,
    action: str,
    previous_status: str | None,
    new_status: str | None,
    reason: str | None,
    notes: str | None,
    actor_type: str,
    actor_admin_id: UUID | None,
    request_id: str | None,
    previous_data: dict[str, Any] | None,
    new_data: dict[str, Any] | None,
    details: dict[str, Any],
) -> UUID:
    row = conn.execute(
        """
        insert into service_action_log (service_id, customer_id, action, previous_status, new_status, reason,
                                        notes, actor_type, actor_admin_id, request_id, previous_data,
                                        new_data, details)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb)
        returning id
        """,
        (
            service_id,
            customer_id,
            action,
            previous_status,
            new_status,
            reason,
            notes,
            actor_type,
            actor_admin_id,
            request_id,
            _json(previous_data),
            _json(new_data),
            _json(details),
        ),
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def get_entry(conn: Connection, entry_id: UUID) -> dict[str, Any] | None:
    return conn.execute(_ENTRY + " where l.id = %s", (entry_id,)).fetchone()


def list_for_service(
    conn: Connection, service_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int
) -> list[dict[str, Any]]:
    """Newest first (created_at desc, id desc), `limit + 1` rows after the cursor key."""
    return conn.execute(
        _ENTRY
        + """
         where l.service_id = %(service_id)s
           and (%(after_at)s::timestamptz is null
                or (l.created_at, l.id) < (%(after_at)s, %(after_id)s::uuid))
         order by l.created_at desc, l.id desc
         limit %(limit)s
        """,
        {
            "service_id": service_id,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit + 1,
        },
    ).fetchall()
