"""SQL for customer_services as the admin console sees and changes them (lifecycle, provider sync)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import sql

from isp_billing.db import Connection

# The service row as the audit log records it (before/after): ids and states, no address.
SNAPSHOT_COLUMNS = (
    "id",
    "customer_id",
    "package_id",
    "package_name",
    "service_type",
    "status",
    "monthly_price",
    "activation_date",
    "suspension_date",
    "cancellation_date",
    "cancellation_effective_date",
    "cancellation_reason",
    "interstellio_subscriber_id",
    "provider_sync_status",
    "provider_sync_not_before",
    "provider_sync_attempts",
    "provider_sync_error",
    "provider_synced_at",
    "created_at",
    "updated_at",
)
_SNAPSHOT = sql.SQL(", ").join(sql.Identifier(column) for column in SNAPSHOT_COLUMNS)
_ADMIN_VIEW = sql.SQL(", ").join(sql.Identifier("s", column) for column in SNAPSHOT_COLUMNS)

# What a lifecycle action or a provider sync may change.
UPDATABLE = frozenset(
    {
        "status",
        "activation_date",
        "suspension_date",
        "cancellation_date",
        "cancellation_effective_date",
        "cancellation_reason",
        "provider_sync_status",
        "provider_sync_not_before",
        "provider_sync_attempts",
        "provider_sync_error",
        "provider_sync_requested_at",
        "provider_synced_at",
    }
)


def list_services(
    conn: Connection,
    *,
    status: str | None,
    customer_id: UUID | None,
    package_id: UUID | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first (created_at desc, id desc), `limit + 1` rows after the cursor key."""
    query = sql.SQL(
        """
        select {columns}, c.account_number
          from customer_services s
          join customers c on c.id = s.customer_id
         where (%(status)s::text is null or s.status = %(status)s)
           and (%(customer_id)s::uuid is null or s.customer_id = %(customer_id)s)
           and (%(package_id)s::uuid is null or s.package_id = %(package_id)s)
           and (%(after_at)s::timestamptz is null
                or (s.created_at, s.id) < (%(after_at)s, %(after_id)s::uuid))
         order by s.created_at desc, s.id desc
         limit %(limit)s
        """
    ).format(columns=_ADMIN_VIEW)
    return conn.execute(
        query,
        {
            "status": status,
            "customer_id": customer_id,
            "package_id": package_id,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit + 1,
        },
    ).fetchall()


def get_service(conn: Connection, service_id: UUID) -> dict[str, Any] | None:
    query = sql.SQL(
        "select {columns}, c.account_number from customer_services s"
        " join customers c on c.id = s.customer_id where s.id = %s"
    ).format(columns=_ADMIN_VIEW)
    return conn.execute(query, (service_id,)).fetchone()


def lock_service(conn: Connection, service_id: UUID) -> dict[str, Any] | None:
    """The service row, locked until the transaction ends: concurrent actions on it queue behind this one.

    FOR NO KEY UPDATE (not FOR UPDATE): it serialises every lifecycle action just the same, yet lets inserts
    that only reference the row by foreign key (the audit row of a failed attempt) through.
    """
    query = sql.SQL("select {columns} from customer_services where id = %s for no key update").format(
        columns=_SNAPSHOT
    )
    return conn.execute(query, (service_id,)).fetchone()


def update_service(conn: Connection, service_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply `changes` (lifecycle and sync columns only); the row after, as the audit log records it."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable here: {sorted(unknown)}")
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)) for column in changes
    )
    query = sql.SQL(
        "update customer_services set {assignments} where id = %(id)s returning {columns}"
    ).format(assignments=assignments, columns=_SNAPSHOT)
    row = conn.execute(query, {**changes, "id": service_id}).fetchone()
    assert row is not None
    return row


def pending_sync_ids(conn: Connection, today: date, limit: int) -> list[UUID]:
    """Services that still owe Interstellio a change due by today, oldest request first."""
    rows = conn.execute(
        """
        select id from customer_services
         where provider_sync_status <> 'in_sync'
           and (provider_sync_not_before is null or provider_sync_not_before <= %s)
         order by provider_sync_requested_at nulls first, id
         limit %s
        """,
        (today, limit),
    ).fetchall()
    return [UUID(str(row["id"])) for row in rows]


def lock_if_pending(conn: Connection, service_id: UUID, today: date) -> dict[str, Any] | None:
    """The service locked, if it still owes a change due by today and no admin holds it right now."""
    query = sql.SQL(
        """
        select {columns} from customer_services
         where id = %s and provider_sync_status <> 'in_sync'
           and (provider_sync_not_before is null or provider_sync_not_before <= %s)
         for no key update skip locked
        """
    ).format(columns=_SNAPSHOT)
    return conn.execute(query, (service_id, today)).fetchone()


def lock_service_skip_locked(conn: Connection, service_id: UUID) -> dict[str, Any] | None:
    """The service row locked, or None when another transaction (an admin's action in flight) holds it."""
    query = sql.SQL(
        "select {columns} from customer_services where id = %s for no key update skip locked"
    ).format(columns=_SNAPSHOT)
    return conn.execute(query, (service_id,)).fetchone()
