"""SQL for idempotency_keys.

Customer sessions (role api_customer) have no grant on the table: they go through the SECURITY DEFINER
functions `claim_idempotency_key` / `complete_idempotency_key` (20261201002000), which service-role sessions
use too, so there is one code path. The functions check the caller's role: service_role for any key,
api_customer only for its own customer's keys (it needs `sub`), anyone else (authenticated, anon) never.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from isp_billing.db import Connection


def purge_expired(conn: Connection) -> int:
    return conn.execute("delete from idempotency_keys where expires_at < now()").rowcount


def claim(
    conn: Connection, scope: str, key: str, request_hash: str, customer_id: UUID | None
) -> dict[str, Any]:
    """Insert the key (claimed=True), or return the row already stored under it (claimed=False).

    A concurrent transaction holding the same key makes this wait until it commits or rolls back.
    """
    row = conn.execute(
        "select * from claim_idempotency_key(%s, %s, %s, %s)", (scope, key, request_hash, customer_id)
    ).fetchone()
    if row is None:  # the holder rolled back between our insert attempt and our read: claim again
        row = conn.execute(
            "select * from claim_idempotency_key(%s, %s, %s, %s)", (scope, key, request_hash, customer_id)
        ).fetchone()
    assert row is not None
    return row


def complete(conn: Connection, scope: str, key: str, response_status: int, response_body: Any) -> bool:
    row = conn.execute(
        "select complete_idempotency_key(%s, %s, %s, %s) as done",
        (scope, key, response_status, Jsonb(response_body)),
    ).fetchone()
    return bool(row and row["done"])
