"""SQL of service_provider_work: Interstellio changes of the catalogue side, committed before the call.

A row is the intent (inserted and committed on a connection of its own before Interstellio is called) and
the record of its outcome (settled in the transaction that applies the result). One left `requested` is
either waiting for its day (a profile switch) or an outcome nobody knows yet: retry-provider-sync finishes it.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from isp_billing.db import Connection


def lock_service(conn: Connection, service_id: UUID, *, skip_locked: bool = False) -> dict[str, Any] | None:
    """The service with its package's Interstellio ids, locked like every lifecycle action locks it."""
    return conn.execute(
        f"""
        select s.id, s.customer_id, s.status, s.package_id, s.package_name, s.activation_date,
               s.interstellio_subscriber_id, s.provisioning_status, s.term_months,
               p.interstellio_service_id, p.interstellio_profile_id,
               c.first_name, c.last_name, c.company_name, c.account_number
          from customer_services s
          join service_packages p on p.id = s.package_id
          join customers c on c.id = s.customer_id
         where s.id = %s
           for no key update of s {"skip locked" if skip_locked else ""}
        """,
        (service_id,),
    ).fetchone()


def open_creation(conn: Connection, service_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "select * from service_provider_work where service_id = %s and kind = 'create_subscriber'"
        " and status = 'requested'",
        (service_id,),
    ).fetchone()


def insert(
    conn: Connection,
    *,
    service_id: UUID,
    customer_id: UUID,
    kind: str,
    profile_id: str,
    due_date: date,
    username: str | None = None,
    provider_service_id: str | None = None,
    subscriber_id: str | None = None,
    package_id: UUID | None = None,
    activation_date: date | None = None,
    request_id: str | None = None,
    actor_admin_id: UUID | None = None,
) -> dict[str, Any]:
    row = conn.execute(
        """
        insert into service_provider_work (service_id, customer_id, kind, username, subscriber_id,
                                           provider_service_id, profile_id, package_id, due_date,
                                           activation_date, request_id, actor_admin_id)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        returning *
        """,
        (
            service_id,
            customer_id,
            kind,
            username,
            subscriber_id,
            provider_service_id,
            profile_id,
            package_id,
            due_date,
            activation_date,
            request_id,
            actor_admin_id,
        ),
    ).fetchone()
    assert row is not None
    return row


def settle(
    conn: Connection,
    work_id: UUID,
    status: str,
    *,
    subscriber_id: str | None = None,
    error: str | None = None,
) -> bool:
    return (
        conn.execute(
            """
            update service_provider_work
               set status = %s, settled_at = now(), subscriber_id = coalesce(%s, subscriber_id),
                   last_error = coalesce(%s, last_error), attempts = attempts + 1
             where id = %s and status = 'requested'
            """,
            (status, subscriber_id, error, work_id),
        ).rowcount
        == 1
    )


def record_attempt(conn: Connection, work_id: UUID, error: str) -> None:
    conn.execute(
        "update service_provider_work set attempts = attempts + 1, last_error = %s where id = %s",
        (error, work_id),
    )


def due(conn: Connection, today: date, limit: int) -> list[dict[str, Any]]:
    """Requested work due by today, oldest first."""
    return conn.execute(
        "select id, service_id, kind from service_provider_work"
        " where status = 'requested' and due_date <= %s order by due_date, created_at, id limit %s",
        (today, limit),
    ).fetchall()


def lock_requested(conn: Connection, work_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "select * from service_provider_work where id = %s and status = 'requested' for update skip locked",
        (work_id,),
    ).fetchone()


def supersede_open_profile_changes(conn: Connection, service_id: UUID) -> int:
    """A later package change replaces a profile switch still waiting for its day."""
    return conn.execute(
        "update service_provider_work set status = 'superseded', settled_at = now()"
        " where service_id = %s and kind = 'change_profile' and status = 'requested'",
        (service_id,),
    ).rowcount


def set_provisioning(
    conn: Connection, service_id: UUID, provisioning_status: str | None, subscriber_id: str | None = None
) -> None:
    conn.execute(
        """
        update customer_services
           set provisioning_status = %s,
               interstellio_subscriber_id = coalesce(%s, interstellio_subscriber_id)
         where id = %s
        """,
        (provisioning_status, subscriber_id, service_id),
    )
