"""SQL for migration_review_queue (backfill cases a person decides)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from isp_billing.db import Connection

_ITEM = """
    select q.id, q.consumer_order_id, o.order_number, q.reason, q.candidates, q.status, q.decision,
           q.resolved_customer_id, q.decided_by, q.decided_at, q.decision_note,
           q.created_at
      from migration_review_queue q
      join consumer_orders o on o.id = q.consumer_order_id
"""


def list_page(
    conn: Connection, *, status: str, limit: int, after: tuple[datetime, UUID] | None
) -> list[dict[str, Any]]:
    """Oldest first (a work queue); `limit + 1` rows so the caller can tell whether there is a next page."""
    return conn.execute(
        _ITEM
        + """
         where q.status = %(status)s
           and (%(after_at)s::timestamptz is null
                or (q.created_at, q.id) > (%(after_at)s, %(after_id)s::uuid))
         order by q.created_at, q.id
         limit %(limit)s
        """,
        {
            "status": status,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit + 1,
        },
    ).fetchall()


def get(conn: Connection, item_id: UUID) -> dict[str, Any] | None:
    return conn.execute(_ITEM + " where q.id = %s", (item_id,)).fetchone()


def lock_for_decision(conn: Connection, item_id: UUID) -> dict[str, Any] | None:
    """The item and its order, both locked until the transaction ends (two people cannot both decide)."""
    return conn.execute(
        """
        select q.id, q.status, q.candidates, q.consumer_order_id, o.customer_id as order_customer_id
          from migration_review_queue q
          join consumer_orders o on o.id = q.consumer_order_id
         where q.id = %s
           for update of q, o
        """,
        (item_id,),
    ).fetchone()


def customer_exists_with(conn: Connection, email_key: str | None, auth_user_id: UUID | None) -> bool:
    row = conn.execute(
        "select exists (select 1 from customers"
        " where lower(email) = %s or (%s::uuid is not null and auth_user_id = %s::uuid)) as taken",
        (email_key, auth_user_id, auth_user_id),
    ).fetchone()
    return bool(row and row["taken"])


def customer_auth_user(conn: Connection, customer_id: UUID) -> tuple[bool, UUID | None]:
    """(whether the customer exists, its auth user id)."""
    row = conn.execute("select auth_user_id from customers where id = %s", (customer_id,)).fetchone()
    return (row is not None, row["auth_user_id"] if row else None)


def mark_resolved(conn: Connection, item_id: UUID, decision: str, customer_id: UUID, admin_id: UUID) -> None:
    conn.execute(
        """
        update migration_review_queue
           set status = 'resolved', decision = %s, resolved_customer_id = %s, decided_by = %s,
               decided_at = now()
         where id = %s and status = 'open'
        """,
        (decision, customer_id, admin_id, item_id),
    )


def mark_dismissed(conn: Connection, item_id: UUID, admin_id: UUID, note: str) -> bool:
    """Dismiss the item if it is still open; False when it does not exist or is decided already (a
    concurrent decision holding the row lock is waited for, then the condition is checked again)."""
    row = conn.execute(
        """
        update migration_review_queue
           set status = 'dismissed', decided_by = %s, decided_at = now(), decision_note = %s
         where id = %s and status = 'open'
        returning id
        """,
        (admin_id, note, item_id),
    ).fetchone()
    return row is not None


def order_links(conn: Connection, order_id: UUID) -> dict[str, Any]:
    row = conn.execute(
        "select customer_id, service_id from consumer_orders where id = %s", (order_id,)
    ).fetchone()
    assert row is not None
    return row
