"""SQL for service_provider_intents: the Interstellio flag an admin action is about to ask for.

An intent is inserted (on a connection of its own, committed) before the call and settled in the admin's
transaction, together with the lifecycle change, or with the provider_failed audit row of a refusal. One left
unsettled is an interrupted action; retry-provider-sync settles it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from isp_billing.db import Connection


def insert(
    conn: Connection,
    *,
    service_id: UUID,
    customer_id: UUID,
    action: str,
    subscriber_id: str,
    enabled: bool,
    request_id: str | None,
    actor_admin_id: UUID | None,
) -> UUID:
    row = conn.execute(
        """
        insert into service_provider_intents
               (service_id, customer_id, action, subscriber_id, enabled, request_id, actor_admin_id)
        values (%s, %s, %s, %s, %s, %s, %s)
        returning id
        """,
        (service_id, customer_id, action, subscriber_id, enabled, request_id, actor_admin_id),
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def settle(conn: Connection, intent_id: UUID, outcome: str) -> bool:
    """Mark the intent settled with `outcome`; False if it was settled already."""
    return (
        conn.execute(
            "update service_provider_intents set settled_at = now(), outcome = %s"
            " where id = %s and settled_at is null",
            (outcome, intent_id),
        ).rowcount
        == 1
    )


def unsettled(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Unsettled intents, oldest first."""
    return conn.execute(
        "select id, service_id, action, enabled, created_at from service_provider_intents"
        " where settled_at is null order by created_at, id limit %s",
        (limit,),
    ).fetchall()


def lock_unsettled(conn: Connection, intent_id: UUID) -> dict[str, Any] | None:
    """The intent, locked, if still unsettled and nobody else holds it."""
    return conn.execute(
        "select id, service_id, action, enabled, request_id from service_provider_intents"
        " where id = %s and settled_at is null for update skip locked",
        (intent_id,),
    ).fetchone()
