"""SQL for the customer's own profile, run in the customer's session (api_customer, RLS on): the column
grants allow phone, addresses and invoice e-mail only, the policies the caller's own rows only."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from psycopg import sql

from isp_billing.db import Connection

_CUSTOMER_FIELDS = ("phone", "physical_address", "postal_address")


def get(conn: Connection, customer_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        """
        select c.account_number, c.customer_type, c.first_name, c.last_name, c.email, c.phone,
               c.physical_address, c.postal_address, c.company_name, c.vat_number, b.invoice_email
          from customers c
          join customer_billing b on b.customer_id = c.id
         where c.id = %s
        """,
        (customer_id,),
    ).fetchone()


def lock(conn: Connection, customer_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        """
        select c.phone, c.physical_address, c.postal_address, b.invoice_email
          from customers c
          join customer_billing b on b.customer_id = c.id
         where c.id = %s
           for update of c, b
        """,
        (customer_id,),
    ).fetchone()


def update(conn: Connection, customer_id: UUID, changes: dict[str, Any]) -> None:
    on_customer = {key: value for key, value in changes.items() if key in _CUSTOMER_FIELDS}
    if on_customer:
        query = sql.SQL("update customers set {} where id = %s").format(
            sql.SQL(", ").join(
                sql.SQL("{} = %s::jsonb" if key.endswith("_address") else "{} = %s").format(
                    sql.Identifier(key)
                )
                for key in on_customer
            )
        )
        params = [
            json.dumps(v) if k.endswith("_address") and v is not None else v for k, v in on_customer.items()
        ]
        conn.execute(query, [*params, customer_id])
    if "invoice_email" in changes:
        conn.execute(
            "update customer_billing set invoice_email = %s where customer_id = %s",
            (changes["invoice_email"], customer_id),
        )
