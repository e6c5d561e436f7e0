"""SQL for the billing run's inputs that admins write: price changes and once-off charges."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing.db import Connection

_CHARGE = """
    c.id, c.customer_id, c.kind, c.description, c.amount, c.due_date, c.status, c.invoice_id,
    i.invoice_number, c.created_at, c.cancelled_at
"""


def package(conn: Connection, package_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "select id, name, service_type, monthly_price from service_packages where id = %s", (package_id,)
    ).fetchone()


def latest_price_change(conn: Connection, service_id: UUID) -> date | None:
    row = conn.execute(
        """
        select max((details->>'effective_date')::date) as effective
          from service_action_log where service_id = %s and action = 'price_change'
        """,
        (service_id,),
    ).fetchone()
    return None if row is None else row["effective"]


def set_price(
    conn: Connection, service_id: UUID, price: Decimal, package_row: dict[str, Any] | None
) -> dict[str, Any]:
    row = conn.execute(
        """
        update customer_services
           set monthly_price = %(price)s,
               package_id = coalesce(%(package_id)s, package_id),
               package_name = coalesce(%(package_name)s, package_name),
               service_type = coalesce(%(service_type)s, service_type)
         where id = %(id)s
        returning id, customer_id, package_id, package_name, service_type, status, monthly_price
        """,
        {
            "id": service_id,
            "price": price,
            "package_id": package_row["id"] if package_row else None,
            "package_name": package_row["name"] if package_row else None,
            "service_type": package_row["service_type"] if package_row else None,
        },
    ).fetchone()
    assert row is not None
    return row


def customer_exists(conn: Connection, customer_id: UUID) -> bool:
    return conn.execute("select 1 from customers where id = %s", (customer_id,)).fetchone() is not None


def insert_charge(
    conn: Connection,
    customer_id: UUID,
    kind: str,
    description: str,
    amount: Decimal,
    due_date: date,
    created_by: UUID,
) -> dict[str, Any]:
    row = conn.execute(
        f"""
        with c as (
          insert into customer_charges (customer_id, kind, description, amount, due_date, created_by)
          values (%s, %s, %s, %s, %s, %s)
          returning *
        )
        select {_CHARGE} from c left join customer_invoices i on i.id = c.invoice_id
        """,
        (customer_id, kind, description, amount, due_date, created_by),
    ).fetchone()
    assert row is not None
    return row


def list_charges(conn: Connection, customer_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        f"""
        select {_CHARGE} from customer_charges c left join customer_invoices i on i.id = c.invoice_id
         where c.customer_id = %s
         order by c.created_at desc, c.id desc
        """,
        (customer_id,),
    ).fetchall()


def get_charge(conn: Connection, customer_id: UUID, charge_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        f"""
        select {_CHARGE} from customer_charges c left join customer_invoices i on i.id = c.invoice_id
         where c.customer_id = %s and c.id = %s
        """,
        (customer_id, charge_id),
    ).fetchone()


def cancel_pending_charge(conn: Connection, customer_id: UUID, charge_id: UUID, admin_id: UUID) -> bool:
    """Cancel the charge if it is still pending (the billing run locks the customer, so a charge is either
    invoiced or cancelled, never both)."""
    row = conn.execute(
        """
        update customer_charges set status = 'cancelled', cancelled_at = now(), cancelled_by = %s
         where customer_id = %s and id = %s and status = 'pending'
        returning id
        """,
        (admin_id, customer_id, charge_id),
    ).fetchone()
    return row is not None
