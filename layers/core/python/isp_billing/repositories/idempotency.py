"""SQL for idempotency_keys."""

from __future__ import annotations

from isp_billing.db import Connection


def purge_expired(conn: Connection) -> int:
    return conn.execute("delete from idempotency_keys where expires_at < now()").rowcount
