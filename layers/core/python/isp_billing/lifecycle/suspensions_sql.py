"""SQL for service_suspensions. `pauses_billing` is never written here: a trigger derives it from the type."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from isp_billing.clock import sast_now
from isp_billing.db import Connection

_COLUMNS = """
    id, service_id, suspension_type, pauses_billing, reason, notes, suspended_at, planned_end,
    reactivated_at, suspended_by, reactivated_by
"""


def open_for_service(conn: Connection, service_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        f"select {_COLUMNS} from service_suspensions where service_id = %s and reactivated_at is null",
        (service_id,),
    ).fetchone()


def open_suspension(
    conn: Connection,
    *,
    service_id: UUID,
    customer_id: UUID,
    suspension_type: str,
    reason: str,
    notes: str | None,
    planned_end: date | None,
    suspended_by: UUID | None,
) -> dict[str, Any]:
    row = conn.execute(
        f"""
        insert into service_suspensions (service_id, customer_id, suspension_type, reason, notes, planned_end,
                                         suspended_by, suspended_at)
        values (%s, %s, %s, %s, %s, %s, %s, %s)
        returning {_COLUMNS}
        """,
        (service_id, customer_id, suspension_type, reason, notes, planned_end, suspended_by, sast_now()),
    ).fetchone()
    assert row is not None
    return row


def close_suspension(conn: Connection, suspension_id: UUID, reactivated_by: UUID | None) -> dict[str, Any]:
    row = conn.execute(
        f"""
        update service_suspensions set reactivated_at = greatest(%s, suspended_at), reactivated_by = %s
         where id = %s and reactivated_at is null
        returning {_COLUMNS}
        """,
        (sast_now(), reactivated_by, suspension_id),
    ).fetchone()
    assert row is not None
    return row
