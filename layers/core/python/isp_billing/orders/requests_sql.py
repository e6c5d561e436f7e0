"""SQL of package change requests (customers' own through RLS; admins' through the service role)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from isp_billing.db import Connection

_REQUEST = """
    r.id, r.service_id, r.customer_id, r.package_id, coalesce(p.name, 'Package') as package_name, r.note,
    r.status, r.effective_date, r.decision_reason, r.decided_at, r.created_at
"""


def own_service(conn: Connection, service_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "select id, customer_id, package_id, status from customer_services where id = %s", (service_id,)
    ).fetchone()


def sellable(conn: Connection, package_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "select id from service_packages where id = %s and is_sellable and is_active", (package_id,)
    ).fetchone()


def insert(conn: Connection, service: dict[str, Any], package_id: UUID, note: str | None) -> UUID:
    row = conn.execute(
        "insert into service_change_requests (service_id, customer_id, package_id, note)"
        " values (%s, %s, %s, %s) returning id",
        (service["id"], service["customer_id"], package_id, note),
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def get(conn: Connection, request_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        f"select {_REQUEST} from service_change_requests r"
        " left join service_packages p on p.id = r.package_id where r.id = %s",
        (request_id,),
    ).fetchone()


def list_requests(
    conn: Connection, *, customer_id: UUID | None, status: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Newest first; a customer's session sees only its own rows (RLS)."""
    return conn.execute(
        f"""
        select {_REQUEST}
          from service_change_requests r left join service_packages p on p.id = r.package_id
         where (%(customer_id)s::uuid is null or r.customer_id = %(customer_id)s)
           and (%(status)s::text is null or r.status = %(status)s)
         order by r.created_at desc, r.id desc
         limit %(limit)s
        """,
        {"customer_id": customer_id, "status": status, "limit": limit},
    ).fetchall()


def lock(conn: Connection, request_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "select id, service_id, customer_id, package_id, status from service_change_requests"
        " where id = %s for update",
        (request_id,),
    ).fetchone()


def decide(
    conn: Connection,
    request_id: UUID,
    status: str,
    effective_date: date | None,
    reason: str | None,
    admin_id: UUID,
    at: datetime,
) -> None:
    conn.execute(
        """
        update service_change_requests
           set status = %s, effective_date = %s, decision_reason = %s, decided_by = %s, decided_at = %s
         where id = %s and status = 'pending'
        """,
        (status, effective_date, reason, admin_id, at, request_id),
    )


def clear_negotiated_price(conn: Connection, service_id: UUID) -> None:
    conn.execute("update customer_services set price_override_reason = null where id = %s", (service_id,))
