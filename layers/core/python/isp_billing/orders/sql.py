"""SQL of orders and fixed terms: the pending service, its once-off charges, the term dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from isp_billing.db import Connection


def customer_exists(conn: Connection, customer_id: UUID) -> bool:
    return (
        conn.execute("select 1 from customers where id = %s for share", (customer_id,)).fetchone() is not None
    )


def sellable_package(conn: Connection, package_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        """
        select id, name, service_type, monthly_price, minimum_term_months, installation_fee, equipment_fee,
               interstellio_service_id, interstellio_profile_id, is_sellable
          from service_packages where id = %s for share
        """,
        (package_id,),
    ).fetchone()


def insert_service(
    conn: Connection,
    *,
    customer_id: UUID,
    package: dict[str, Any],
    monthly_price: Decimal,
    price_override_reason: str | None,
    installation_address: dict[str, Any],
    requested_date: date,
) -> dict[str, Any]:
    row = conn.execute(
        """
        insert into customer_services (customer_id, package_id, package_name, service_type, status,
                                       monthly_price, price_override_reason, installation_address,
                                       requested_date, term_months)
        values (%s, %s, %s, %s, 'pending', %s, %s, %s, %s, %s)
        returning *
        """,
        (
            customer_id,
            package["id"],
            package["name"],
            package["service_type"],
            monthly_price,
            price_override_reason,
            Jsonb(installation_address),
            requested_date,
            package["minimum_term_months"],
        ),
    ).fetchone()
    assert row is not None
    return row


def insert_charges(
    conn: Connection,
    customer_id: UUID,
    charges: list[tuple[str, str, Decimal]],
    due_date: date,
    created_by: UUID | None,
) -> list[dict[str, Any]]:
    if not charges:
        return []
    return conn.execute(
        """
        insert into customer_charges (customer_id, kind, description, amount, due_date, created_by)
        select %s, c.kind, c.description, c.amount, %s, %s
          from unnest(%s::text[], %s::text[], %s::numeric[])
               with ordinality as c(kind, description, amount, n)
         order by c.n
        returning id, kind, description, amount, due_date
        """,
        (
            customer_id,
            due_date,
            created_by,
            [c[0] for c in charges],
            [c[1] for c in charges],
            [c[2] for c in charges],
        ),
    ).fetchall()


def start_term(conn: Connection, service_id: UUID) -> dict[str, Any] | None:
    """A fixed-term service's term from its activation day: term_months later, less a day."""
    return conn.execute(
        """
        update customer_services
           set term_start = activation_date,
               term_end = (activation_date + make_interval(months => term_months))::date - 1
         where id = %s and term_months > 0 and activation_date is not null and term_start is null
        returning term_start, term_end
        """,
        (service_id,),
    ).fetchone()


def price_on(conn: Connection, service_id: UUID, day: date) -> Decimal:
    """The service's monthly price in force on `day`, as the billing run reads it: the price_change audit
    rows (a change recorded ahead of its date has already updated customer_services.monthly_price)."""
    row = conn.execute(
        """
        select coalesce(
          (select (l.details->>'new_price')::numeric(12,2) from service_action_log l
            where l.service_id = %(id)s and l.action = 'price_change'
              and (l.details->>'effective_date')::date <= %(day)s
            order by (l.details->>'effective_date')::date desc, l.created_at desc limit 1),
          (select (l.details->>'old_price')::numeric(12,2) from service_action_log l
            where l.service_id = %(id)s and l.action = 'price_change'
              and (l.details->>'effective_date')::date > %(day)s
            order by (l.details->>'effective_date')::date, l.created_at limit 1),
          (select s.monthly_price from customer_services s where s.id = %(id)s)) as price
        """,
        {"id": service_id, "day": day},
    ).fetchone()
    assert row is not None and row["price"] is not None
    return Decimal(row["price"])


def term_of(conn: Connection, service_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "select term_months, term_start, term_end, monthly_price, customer_id, package_name"
        " from customer_services where id = %s",
        (service_id,),
    ).fetchone()


def terms_ending(conn: Connection, first: date, last: date) -> list[dict[str, Any]]:
    """Live fixed-term services whose term ends after `first` and by `last` (the notice job's candidates)."""
    return conn.execute(
        """
        select id, customer_id, package_id, package_name, monthly_price, price_override_reason, term_end
          from customer_services
         where term_end > %s and term_end <= %s and status in ('active', 'suspended')
         order by term_end, id
        """,
        (first, last),
    ).fetchall()
