"""SQL reads of invoices, their lines and payments: the customer's (under RLS) and the admin console's."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from psycopg import sql

from isp_billing.db import Connection

# The statuses a customer never sees (also the RLS policy's rule: two walls).
HIDDEN_FROM_CUSTOMERS = ("draft", "void")
UNPAID_STATUSES = ("issued", "partially_paid", "overdue")

_SUMMARY = sql.SQL(
    """i.id, i.customer_id, i.invoice_number, i.kind, i.invoice_date, i.due_date, i.period_start,
       i.period_end, i.subtotal, i.vat_rate, i.vat_amount, i.total_amount, i.amount_paid, i.amount_credited,
       i.account_credit_applied, i.amount_due, i.amount_written_off, i.status, i.credit_note_for, i.pdf_url,
       i.pdf_generated_at,
       i.pdf_generated_at is not null as pdf_ready, i.created_at"""
)


def _after(after: tuple[date, UUID] | None) -> dict[str, Any]:
    return {"after_date": after[0] if after else None, "after_id": after[1] if after else None}


def list_for_customer(
    conn: Connection, customer_id: UUID, *, status: str | None, after: tuple[date, UUID] | None, limit: int
) -> list[dict[str, Any]]:
    """Newest first (invoice_date desc, id desc), `limit + 1` rows after the cursor key; never a draft or
    a void invoice."""
    query = sql.SQL(
        """
        select {columns} from customer_invoices i
         where i.customer_id = %(customer_id)s
           and i.status <> all (%(hidden)s)
           and (%(status)s::text is null or i.status = %(status)s)
           and (%(after_date)s::date is null or (i.invoice_date, i.id) < (%(after_date)s, %(after_id)s::uuid))
         order by i.invoice_date desc, i.id desc
         limit %(limit)s
        """
    ).format(columns=_SUMMARY)
    params = {"customer_id": customer_id, "hidden": list(HIDDEN_FROM_CUSTOMERS), "status": status}
    return conn.execute(query, {**params, **_after(after), "limit": limit + 1}).fetchall()


def get_for_customer(conn: Connection, customer_id: UUID, invoice_id: UUID) -> dict[str, Any] | None:
    query = sql.SQL(
        "select {columns}, i.usage_totals from customer_invoices i"
        " where i.id = %s and i.customer_id = %s and i.status <> all (%s)"
    ).format(columns=_SUMMARY)
    return conn.execute(query, (invoice_id, customer_id, list(HIDDEN_FROM_CUSTOMERS))).fetchone()


def list_for_admin(
    conn: Connection,
    *,
    customer_id: UUID | None,
    status: str | None,
    kind: str | None,
    date_from: date | None,
    date_to: date | None,
    overdue_on: date | None,
    after: tuple[date, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first; `overdue_on`: only invoices still owing whose due date is before that day."""
    query = sql.SQL(
        """
        select {columns}, c.account_number
          from customer_invoices i
          join customers c on c.id = i.customer_id
         where (%(customer_id)s::uuid is null or i.customer_id = %(customer_id)s)
           and (%(status)s::text is null or i.status = %(status)s)
           and (%(kind)s::text is null or i.kind = %(kind)s)
           and (%(date_from)s::date is null or i.invoice_date >= %(date_from)s)
           and (%(date_to)s::date is null or i.invoice_date <= %(date_to)s)
           and (%(overdue_on)s::date is null
                or (i.status = any (%(unpaid)s) and i.amount_due > 0 and i.due_date < %(overdue_on)s))
           and (%(after_date)s::date is null or (i.invoice_date, i.id) < (%(after_date)s, %(after_id)s::uuid))
         order by i.invoice_date desc, i.id desc
         limit %(limit)s
        """
    ).format(columns=_SUMMARY)
    params = {
        "customer_id": customer_id,
        "status": status,
        "kind": kind,
        "date_from": date_from,
        "date_to": date_to,
        "overdue_on": overdue_on,
        "unpaid": list(UNPAID_STATUSES),
    }
    return conn.execute(query, {**params, **_after(after), "limit": limit + 1}).fetchall()


def get_for_admin(conn: Connection, invoice_id: UUID) -> dict[str, Any] | None:
    query = sql.SQL(
        "select {columns}, c.account_number, i.usage_totals from customer_invoices i"
        " join customers c on c.id = i.customer_id where i.id = %s"
    ).format(columns=_SUMMARY)
    return conn.execute(query, (invoice_id,)).fetchone()


def lines(conn: Connection, invoice_id: UUID) -> list[dict[str, Any]]:
    """In the order they were written (credits after charges, as the run writes them)."""
    return conn.execute(
        """
        select id, service_id, kind, description, quantity, unit_amount, amount, period_start, period_end,
               source
          from invoice_line_items where invoice_id = %s
         order by created_at, amount desc, id
        """,
        (invoice_id,),
    ).fetchall()


def payments(conn: Connection, invoice_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        """
        select t.id, coalesce((t.processed_at at time zone 'Africa/Johannesburg')::date, t.action_date,
                              (t.created_at at time zone 'Africa/Johannesburg')::date) as date,
               t.amount, t.kind, t.status, t.provider, t.failure_code,
               coalesce(m.method_type, t.provider) as method
          from payment_transactions t
          left join customer_payment_methods m on m.id = t.payment_method_id
         where t.invoice_id = %s
         order by t.created_at, t.id
        """,
        (invoice_id,),
    ).fetchall()


def credit_notes(conn: Connection, invoice_id: UUID) -> list[dict[str, Any]]:
    query = sql.SQL(
        "select {columns} from customer_invoices i where i.credit_note_for = %s order by i.created_at, i.id"
    ).format(columns=_SUMMARY)
    return conn.execute(query, (invoice_id,)).fetchall()


def account_figures(conn: Connection, customer_id: UUID, today: date) -> dict[str, Any]:
    """What the customer owes and has paid, in one round trip: balance owed, overdue part, paid this year
    (every payment received and not reversed: debit orders, EFT and cash, since 1 January, SAST) and the
    latest one."""
    row = conn.execute(
        """
        with owed as (
          select coalesce(sum(amount_due), 0) as balance_owed,
                 coalesce(sum(amount_due) filter (where due_date < %(today)s), 0) as overdue_amount
            from customer_invoices
           where customer_id = %(customer_id)s and kind <> 'credit_note' and status = any (%(unpaid)s)
             and amount_due > 0
        ), paid as (
          select t.amount,
                 coalesce(m.method_type, case t.provider when 'manual' then 'cash' else t.provider end)
                   as method,
                 case when t.kind = 'payment' and t.action_date is not null then t.action_date
                      else (coalesce(t.processed_at, t.created_at) at time zone 'Africa/Johannesburg')::date
                 end as paid_on
            from payment_transactions t
            left join customer_payment_methods m on m.id = t.payment_method_id
           where t.customer_id = %(customer_id)s and t.kind in ('collection', 'payment')
             and t.status = 'successful'
        )
        select o.balance_owed, o.overdue_amount,
               (select coalesce(sum(amount), 0) from paid
                 where paid_on >= make_date(extract(year from %(today)s::date)::int, 1, 1)) as paid_this_year,
               (select json_build_object('date', paid_on, 'amount', amount::text, 'method', method)
                  from paid order by paid_on desc limit 1) as last_payment,
               exists (select 1 from customer_invoices
                        where customer_id = %(customer_id)s and kind = 'recurring'
                          and period_start = %(today)s) as invoiced_today
          from owed o
        """,
        {"customer_id": customer_id, "today": today, "unpaid": list(UNPAID_STATUSES)},
    ).fetchone()
    assert row is not None
    return row
