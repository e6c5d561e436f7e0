"""Admin console reads of services: the list, one service with its open suspension, its audit log."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from isp_billing.db import Connection
from isp_billing.errors import NotFound
from isp_billing.lifecycle import audit_sql as service_actions
from isp_billing.lifecycle import services_sql as admin_services
from isp_billing.lifecycle import suspensions_sql as service_suspensions
from isp_billing.lifecycle.models import AdminService, AdminServiceDetail, AuditEntry, Suspension
from isp_billing.pagination import Page, decode_cursor, page_of


def list_services(
    conn: Connection,
    *,
    status: str | None,
    customer_id: UUID | None,
    package_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> Page[AdminService]:
    after = decode_cursor(cursor, datetime.fromisoformat, UUID) if cursor else None
    rows = admin_services.list_services(
        conn, status=status, customer_id=customer_id, package_id=package_id, after=after, limit=limit
    )
    items, next_cursor = page_of(rows, limit, key=lambda row: (row["created_at"], row["id"]))
    return Page[AdminService](items=[AdminService.model_validate(r) for r in items], next_cursor=next_cursor)


def get_service(conn: Connection, service_id: UUID) -> AdminServiceDetail:
    row = admin_services.get_service(conn, service_id)
    if row is None:
        raise NotFound("No such service.")
    suspension = service_suspensions.open_for_service(conn, service_id)
    return AdminServiceDetail.model_validate(
        {**row, "open_suspension": Suspension.model_validate(suspension) if suspension else None}
    )


def audit_log(conn: Connection, service_id: UUID, *, cursor: str | None, limit: int) -> Page[AuditEntry]:
    if admin_services.get_service(conn, service_id) is None:
        raise NotFound("No such service.")
    after = decode_cursor(cursor, datetime.fromisoformat, UUID) if cursor else None
    rows = service_actions.list_for_service(conn, service_id, after=after, limit=limit)
    items, next_cursor = page_of(rows, limit, key=lambda row: (row["created_at"], row["id"]))
    return Page[AuditEntry](items=[AuditEntry.model_validate(r) for r in items], next_cursor=next_cursor)
