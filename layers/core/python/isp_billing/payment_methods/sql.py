"""SQL for customer_payment_methods (and the customer facts a mandate request needs).

Customer functions run as `api_customer` (db.customer_session), the role that holds the customer write
grants and policies; Supabase's Data API (PostgREST, as `authenticated`) can only read. RLS and the explicit
customer filter are two walls, and the guard trigger limits which columns a customer's update may touch.
The mandate functions at the end run as the service role: NetCash's webhook and the mandate jobs (status
sync, expiry) act for no customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from isp_billing.db import Connection
from isp_billing.errors import Conflict

_COLUMNS = """
    id, customer_id, method_type, display_name, is_primary, is_active, deactivated_at, created_at,
    bank_name, account_type, account_number_masked, mandate_reference, mandate_status, mandate_amount,
    mandate_signed_at, mandate_url, card_brand, card_last4, card_expiry_month, card_expiry_year
"""
_ONE_PRIMARY_INDEX = "customer_payment_methods_one_primary_key"


def _conflict_on_primary(error: psycopg.errors.UniqueViolation) -> Conflict:
    if error.diag.constraint_name == _ONE_PRIMARY_INDEX:
        return Conflict("Another change to your primary payment method happened at the same time; retry.")
    return Conflict("This payment method conflicts with an existing one.")


def list_active(conn: Connection, customer_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        f"select {_COLUMNS} from customer_payment_methods"
        " where customer_id = %s and is_active"
        " order by is_primary desc, created_at desc, id",
        (customer_id,),
    ).fetchall()


def get(conn: Connection, customer_id: UUID, method_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        f"select {_COLUMNS} from customer_payment_methods where customer_id = %s and id = %s",
        (customer_id, method_id),
    ).fetchone()


def lock_customer(conn: Connection, customer_id: UUID) -> None:
    """Serialise one customer's payment-method changes (primary choice) for the rest of the transaction."""
    conn.execute(
        "select pg_advisory_xact_lock(hashtextextended('customer_payment_methods:' || %s::text, 0))",
        (customer_id,),
    )


def has_active_primary(conn: Connection, customer_id: UUID) -> bool:
    row = conn.execute(
        "select exists (select 1 from customer_payment_methods"
        " where customer_id = %s and is_active and is_primary) as found",
        (customer_id,),
    ).fetchone()
    return bool(row and row["found"])


def mandate_context(conn: Connection, customer_id: UUID) -> dict[str, Any] | None:
    """The customer's details for a mandate, their debit day and monthly total (pending/active/suspended)."""
    return conn.execute(
        """
        select c.account_number, c.first_name, c.last_name, c.email, c.phone, c.customer_type,
               b.debit_day, b.billing_day,
               (select coalesce(sum(s.monthly_price), 0) from customer_services s
                 where s.customer_id = c.id and s.status in ('pending', 'active', 'suspended'))
                 as monthly_total
          from customers c
          left join customer_billing b on b.customer_id = c.id
         where c.id = %s
        """,
        (customer_id,),
    ).fetchone()


def insert(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    query = sql.SQL("insert into customer_payment_methods ({}) values ({}) returning " + _COLUMNS).format(
        sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(sql.Placeholder() * len(values)),
    )
    try:
        row = conn.execute(query, list(values.values())).fetchone()
    except psycopg.errors.UniqueViolation as error:
        raise _conflict_on_primary(error) from None
    assert row is not None
    return row


def update_fields(
    conn: Connection, customer_id: UUID, method_id: UUID, changes: dict[str, Any]
) -> dict[str, Any] | None:
    query = sql.SQL(
        "update customer_payment_methods set {} where customer_id = %s and id = %s and is_active returning "
        + _COLUMNS
    ).format(sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(name)) for name in changes))
    return conn.execute(query, [*changes.values(), customer_id, method_id]).fetchone()


def deactivate(conn: Connection, customer_id: UUID, method_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "update customer_payment_methods set is_active = false, is_primary = false, deactivated_at = now()"
        f" where customer_id = %s and id = %s and is_active returning {_COLUMNS}",
        (customer_id, method_id),
    ).fetchone()


# Collectable now, as models.payment_methods.is_collectable says: an accepted mandate, or an unexpired card
# (expiry month compared in SAST). EFT is never collected.
_COLLECTABLE = """
    is_active and (
      (method_type = 'debit_order' and mandate_status = 'accepted')
      or (method_type = 'card' and (card_expiry_year, card_expiry_month) >= (
            extract(year from now() at time zone 'Africa/Johannesburg')::int,
            extract(month from now() at time zone 'Africa/Johannesburg')::int)))
"""


def promote_latest(conn: Connection, customer_id: UUID) -> UUID | None:
    """Make the most recently added collectable method primary (none when no collectable one is left)."""
    try:
        row = conn.execute(
            f"""
            update customer_payment_methods set is_primary = true
             where id = (select id from customer_payment_methods
                          where customer_id = %s and {_COLLECTABLE}
                          order by created_at desc, id desc limit 1)
               and customer_id = %s
            returning id
            """,
            (customer_id, customer_id),
        ).fetchone()
    except psycopg.errors.UniqueViolation as error:
        raise _conflict_on_primary(error) from None
    return row["id"] if row else None


def make_only_primary(conn: Connection, customer_id: UUID, method_id: UUID) -> dict[str, Any] | None:
    """Clear the current primary, then set this one: two statements, so the unique index never sees two."""
    conn.execute(
        "update customer_payment_methods set is_primary = false"
        " where customer_id = %s and is_primary and id <> %s",
        (customer_id, method_id),
    )
    try:
        return conn.execute(
            "update customer_payment_methods set is_primary = true"
            f" where customer_id = %s and id = %s and is_active returning {_COLUMNS}",
            (customer_id, method_id),
        ).fetchone()
    except psycopg.errors.UniqueViolation as error:
        raise _conflict_on_primary(error) from None


def has_other_live_debit_order(conn: Connection, customer_id: UUID, method_id: UUID) -> bool:
    row = conn.execute(
        "select exists (select 1 from customer_payment_methods"
        " where customer_id = %s and id <> %s and is_active and method_type = 'debit_order'"
        " and mandate_status in ('pending', 'accepted')) as found",
        (customer_id, method_id),
    ).fetchone()
    return bool(row and row["found"])


def has_invoice_awaiting_collection(conn: Connection, customer_id: UUID, method_id: UUID) -> bool:
    """An unpaid invoice of an auto-pay customer, or a collection in flight on this method."""
    row = conn.execute(
        """
        select exists (
                 select 1 from customer_invoices i
                   join customer_billing b on b.customer_id = i.customer_id
                  where i.customer_id = %s and b.auto_pay
                    and i.status in ('issued', 'partially_paid', 'overdue') and i.amount_due > 0)
            or exists (
                 select 1 from payment_transactions t
                  where t.customer_id = %s and t.payment_method_id = %s
                    and t.kind = 'collection' and t.status in ('pending', 'submitted')) as found
        """,
        (customer_id, customer_id, method_id),
    ).fetchone()
    return bool(row and row["found"])


# --- service role: NetCash's mandate webhook and the mandate jobs --------------------------------------


def find_created_mandate(conn: Connection, method_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        f"select {_COLUMNS} from customer_payment_methods"
        " where id = %s and method_type = 'debit_order' and mandate_reference = %s::text",
        (method_id, method_id),
    ).fetchone()


def apply_mandate_statuses(
    conn: Connection, confirmed: Mapping[UUID, str], transitions: Iterable[str]
) -> list[dict[str, Any]]:
    """Apply NetCash-confirmed statuses to the debit orders we created, in one statement.

    `confirmed` maps payment method ids to statuses; `transitions` are the allowed moves as `"from>to"`.
    Returns one row per matching mandate (locked while it is read): id, customer_id, previous_status,
    confirmed_status and `applied` (false: already so, or a move that is not allowed). Ids that match no
    mandate we created are simply absent.
    """
    if not confirmed:
        return []
    return conn.execute(
        """
        with confirmed as (
          select c.id, c.status from unnest(%s::uuid[], %s::text[]) as c (id, status)
        ), target as (
          select m.id, m.customer_id, m.mandate_status as previous_status, c.status as confirmed_status
            from customer_payment_methods m
            join confirmed c on c.id = m.id
           where m.method_type = 'debit_order' and m.mandate_reference = m.id::text
           order by m.id
             for update of m
        ), changed as (
          update customer_payment_methods m
             set mandate_status = t.confirmed_status,
                 mandate_signed_at = case when t.confirmed_status = 'accepted' then now()
                                          else m.mandate_signed_at end
            from target t
           where m.id = t.id and t.previous_status || '>' || t.confirmed_status = any(%s::text[])
          returning m.id
        )
        select t.id, t.customer_id, t.previous_status, t.confirmed_status, ch.id is not null as applied
          from target t
          left join changed ch on ch.id = t.id
         order by t.id
        """,
        (list(confirmed), list(confirmed.values()), list(transitions)),
    ).fetchall()


def expire_unsigned_mandates(conn: Connection, older_than: timedelta) -> list[dict[str, Any]]:
    """Pending debit-order mandates created longer ago than `older_than` become expired (not collectable).

    The row stays active and keeps its primary flag; only the mandate status changes.
    """
    return conn.execute(
        """
        update customer_payment_methods set mandate_status = 'expired'
         where method_type = 'debit_order' and mandate_status = 'pending' and created_at < now() - %s
        returning id, customer_id, is_primary, is_active
        """,
        (older_than,),
    ).fetchall()


# --- service role: a debit order's mandate request, committed before AddMandate ---------------------------

_OTHER_ACTIVE_PRIMARY = """
    exists (select 1 from customer_payment_methods o
             where o.customer_id = m.customer_id and o.id <> m.id and o.is_active and o.is_primary)
"""


def insert_requesting(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    """The debit order as it will be, `requesting`, inactive (not listed, not collectable), not primary."""
    return insert(conn, {**values, "mandate_status": "requesting", "is_active": False, "is_primary": False})


def settle_requested(conn: Connection, method_id: UUID, mandate_url: str) -> dict[str, Any] | None:
    """NetCash created the mandate: pending with its signing URL, active, primary if the customer has none.

    The mandate job may have adopted the row meanwhile (it saw NetCash's file first): the URL is still added.
    """
    return conn.execute(
        f"""
        update customer_payment_methods m
           set mandate_status = case when m.mandate_status = 'requesting' then 'pending'
                                     else m.mandate_status end,
               mandate_url = coalesce(m.mandate_url, %s),
               is_active = true,
               is_primary = not {_OTHER_ACTIVE_PRIMARY}
         where m.id = %s and m.method_type = 'debit_order' and m.mandate_status <> 'failed'
           and m.deactivated_at is null
        returning {_COLUMNS}
        """,
        (mandate_url, method_id),
    ).fetchone()


def fail_requested(conn: Connection, method_id: UUID) -> bool:
    """NetCash refused: the request failed (the row stays, inactive, as the record of the attempt)."""
    return (
        conn.execute(
            "update customer_payment_methods set mandate_status = 'failed'"
            " where id = %s and mandate_status = 'requesting'",
            (method_id,),
        ).rowcount
        == 1
    )


def adopt_requested(conn: Connection, known_ids: list[UUID]) -> list[dict[str, Any]]:
    """Requesting rows NetCash's mandate file knows become pending and active (the request's process died
    after AddMandate); per customer without an active primary, the first adopted becomes primary."""
    if not known_ids:
        return []
    return conn.execute(
        f"""
        with adopt as (
          select m.id, m.customer_id, not {_OTHER_ACTIVE_PRIMARY} as may_be_primary
            from customer_payment_methods m
           where m.id = any(%s::uuid[]) and m.method_type = 'debit_order'
             and m.mandate_status = 'requesting' and m.mandate_reference = m.id::text
           order by m.id
             for update of m
        ), first_per_customer as (
          select distinct on (customer_id) id from adopt where may_be_primary order by customer_id, id
        )
        update customer_payment_methods m
           set mandate_status = 'pending', is_active = true,
               is_primary = m.id in (select id from first_per_customer)
          from adopt a
         where m.id = a.id
        returning m.id, m.customer_id, m.is_primary
        """,
        (known_ids,),
    ).fetchall()


def fail_stale_requested(conn: Connection, older_than: timedelta) -> list[dict[str, Any]]:
    """Requesting rows older than `older_than` that NetCash does not know: AddMandate never created them."""
    return conn.execute(
        """
        update customer_payment_methods set mandate_status = 'failed'
         where method_type = 'debit_order' and mandate_status = 'requesting' and created_at < now() - %s
        returning id, customer_id
        """,
        (older_than,),
    ).fetchall()
