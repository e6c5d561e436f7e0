"""SQL for webhook_deliveries: insert first; a redelivery is recognised by the unique key, not a check."""

from __future__ import annotations

from isp_billing.db import Connection


def seen(conn: Connection, provider: str, delivery_id: str) -> bool:
    """A cheap early answer for redeliveries; `record` in the effect's transaction is what guarantees it."""
    row = conn.execute(
        "select exists (select 1 from webhook_deliveries where provider = %s and delivery_id = %s) as found",
        (provider, delivery_id),
    ).fetchone()
    return bool(row and row["found"])


def record(conn: Connection, provider: str, delivery_id: str, payload_hash: str) -> bool:
    """True when this delivery is new (and now recorded); False when it was handled before."""
    row = conn.execute(
        "insert into webhook_deliveries (provider, delivery_id, payload_hash) values (%s, %s, %s)"
        " on conflict (provider, delivery_id) do nothing returning id",
        (provider, delivery_id, payload_hash),
    ).fetchone()
    return row is not None


def set_outcome(conn: Connection, provider: str, delivery_id: str, outcome: str) -> None:
    conn.execute(
        "update webhook_deliveries set outcome = %s where provider = %s and delivery_id = %s",
        (outcome, provider, delivery_id),
    )


def forget(conn: Connection, provider: str, delivery_id: str) -> None:
    """Undo `record` in the same transaction: the delivery's outcome was not final, so its redelivery must be
    processed again (a concurrent redelivery waiting on the unique key then proceeds as new)."""
    conn.execute(
        "delete from webhook_deliveries where provider = %s and delivery_id = %s", (provider, delivery_id)
    )
