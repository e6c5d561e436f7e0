"""SQL for customer_audit_log (append-only: insert and read, nothing else)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from isp_billing.db import Connection


def insert(
    conn: Connection,
    *,
    customer_id: UUID,
    action: str,
    actor_type: str,
    actor_admin_id: UUID | None,
    request_id: str | None,
    previous_data: dict[str, Any],
    new_data: dict[str, Any],
) -> None:
    conn.execute(
        """
        insert into customer_audit_log (customer_id, action, actor_type, actor_admin_id, request_id,
                                        changed_fields, previous_data, new_data)
        values (%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)
        """,
        (
            customer_id,
            action,
            actor_type,
            actor_admin_id,
            request_id,
            sorted(new_data),
            json.dumps(previous_data, default=str),
            json.dumps(new_data, default=str),
        ),
    )


def list_for_customer(conn: Connection, customer_id: UUID, limit: int) -> list[dict[str, Any]]:
    return conn.execute(
        """
        select l.id, l.action, l.actor_type, a.full_name as actor_name, l.changed_fields, l.previous_data,
               l.new_data, l.request_id, l.created_at
          from customer_audit_log l
          left join admin_users a on a.id = l.actor_admin_id
         where l.customer_id = %s
         order by l.created_at desc, l.id desc
         limit %s
        """,
        (customer_id, limit),
    ).fetchall()
