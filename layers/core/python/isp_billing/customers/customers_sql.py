"""SQL for customers and their billing settings as the admin API and the profile write them."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from isp_billing.db import Connection
from isp_billing.errors import Conflict

EMAIL_CONSTRAINT = "customers_email_lower_key"

CUSTOMER_COLUMNS = sql.SQL(
    """
    c.id, c.account_number, c.customer_type, c.first_name, c.last_name, c.email, c.phone,
    c.physical_address, c.postal_address, c.company_name, c.vat_number, c.is_test,
    c.auth_user_id is not null as has_login, c.created_at, c.updated_at
    """
)
BILLING_COLUMNS = (
    "billing_day",
    "payment_terms_days",
    "invoice_email",
    "auto_pay",
    "debit_day",
    "credit_balance",
)
_JSON_COLUMNS = {"physical_address", "postal_address"}


def _value(column: str, value: Any) -> Any:
    return json.dumps(value) if column in _JSON_COLUMNS and value is not None else value


def _placeholder(column: str) -> sql.Composable:
    return sql.SQL("%s::jsonb") if column in _JSON_COLUMNS else sql.SQL("%s")


def account_number_with_email(conn: Connection, email: str) -> str | None:
    row = conn.execute(
        "select account_number from customers where lower(email) = lower(%s)", (email,)
    ).fetchone()
    return None if row is None else str(row["account_number"])


def _email_taken(conn: Connection, email: str) -> Conflict:
    account = account_number_with_email(conn, email)
    return Conflict(
        f"A customer with this e-mail already exists: {account}.",
        reason="email_taken",
        account_number=account,
    )


def insert_customer(conn: Connection, values: dict[str, Any]) -> UUID:
    """Insert a customer (its account number and billing row come from the schema's triggers); a taken
    e-mail, even one committed a moment ago by a concurrent request, is a Conflict naming its account."""
    columns = list(values)
    query = sql.SQL("insert into customers ({}) values ({}) returning id").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(_placeholder(column) for column in columns),
    )
    try:
        with conn.transaction():  # a savepoint: the lookup below needs a live transaction
            row = conn.execute(query, [_value(c, values[c]) for c in columns]).fetchone()
    except psycopg.errors.UniqueViolation as error:
        if error.diag.constraint_name != EMAIL_CONSTRAINT:
            raise
        raise _email_taken(conn, str(values["email"])) from None
    assert row is not None
    return UUID(str(row["id"]))


def update_customer(conn: Connection, customer_id: UUID, changes: dict[str, Any]) -> None:
    if not changes:
        return
    query = sql.SQL("update customers set {} where id = %s").format(
        sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(column), _placeholder(column)) for column in changes
        )
    )
    params = [_value(column, value) for column, value in changes.items()]
    try:
        with conn.transaction():
            conn.execute(query, [*params, customer_id])
    except psycopg.errors.UniqueViolation as error:
        if error.diag.constraint_name != EMAIL_CONSTRAINT or "email" not in changes:
            raise
        raise _email_taken(conn, str(changes["email"])) from None


def update_billing(conn: Connection, customer_id: UUID, changes: dict[str, Any]) -> None:
    if not changes:
        return
    query = sql.SQL("update customer_billing set {} where customer_id = %s").format(
        sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(column)) for column in changes)
    )
    conn.execute(query, [*changes.values(), customer_id])


def lock_customer(conn: Connection, customer_id: UUID) -> dict[str, Any] | None:
    """The customer row with its billing settings, both locked for this transaction's change."""
    query = sql.SQL(
        """
        select {columns}, {billing}
          from customers c
          join customer_billing b on b.customer_id = c.id
         where c.id = %s
           for update of c, b
        """
    ).format(columns=CUSTOMER_COLUMNS, billing=_billing_columns())
    return conn.execute(query, (customer_id,)).fetchone()


def get_customer(conn: Connection, customer_id: UUID) -> dict[str, Any] | None:
    query = sql.SQL(
        """
        select {columns}, {billing}
          from customers c
          join customer_billing b on b.customer_id = c.id
         where c.id = %s
        """
    ).format(columns=CUSTOMER_COLUMNS, billing=_billing_columns())
    return conn.execute(query, (customer_id,)).fetchone()


def _billing_columns() -> sql.Composable:
    return sql.SQL(", ").join(
        sql.SQL("b.{} as {}").format(sql.Identifier(column), sql.Identifier(f"billing_{column}"))
        for column in BILLING_COLUMNS
    )


def split_billing(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the customer's columns, its billing settings) of a row read by get_customer / lock_customer."""
    billing = {column: row[f"billing_{column}"] for column in BILLING_COLUMNS}
    customer = {key: value for key, value in row.items() if not key.startswith("billing_")}
    return customer, billing
