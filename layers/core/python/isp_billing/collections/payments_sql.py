"""SQL that applies payments to invoices and takes them back (reversals), set-based.

What is still owed is always the invoice's generated `amount_due` (credit notes may reduce it too): a
payment applies at most that much, and any excess becomes the customer's credit balance. Status after a
payment: nothing due -> `paid` (paid_at set), something due -> `partially_paid`; a reversal moves it back
(`issued`, or `overdue` past its due date, when nothing is paid any more).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing.db import Connection


def apply_to_invoices(conn: Connection, payments: Sequence[tuple[UUID, Decimal]]) -> list[dict[str, Any]]:
    """Apply (invoice id, amount) payments; returns each invoice's applied amount, excess and new status."""
    if not payments:
        return []
    return conn.execute(
        """
        with p as (
          select invoice_id, sum(amount) as amount
            from unnest(%s::uuid[], %s::numeric[]) as x(invoice_id, amount) group by invoice_id
        ),
        owed as (
          select i.id, i.customer_id, i.amount_due, least(p.amount, greatest(i.amount_due, 0)) as applied,
                 p.amount - least(p.amount, greatest(i.amount_due, 0)) as excess
            from customer_invoices i join p on p.invoice_id = i.id
           for update of i
        ),
        updated as (
          update customer_invoices i
             set amount_paid = i.amount_paid + owed.applied,
                 status = case when owed.amount_due - owed.applied <= 0 then 'paid' else 'partially_paid' end,
                 paid_at = case when owed.amount_due - owed.applied <= 0 then now() else i.paid_at end
            from owed where i.id = owed.id
          returning i.id, i.customer_id, i.status
        ),
        credited as (
          update customer_billing b set credit_balance = b.credit_balance + x.excess
            from (select customer_id, sum(excess) as excess from owed group by customer_id
                  having sum(excess) > 0) x
           where b.customer_id = x.customer_id
          returning b.customer_id
        )
        select u.id as invoice_id, u.customer_id, u.status, o.applied, o.excess,
               (select count(*) from credited) as credited_customers
          from updated u join owed o on o.id = u.id
        """,
        ([invoice for invoice, _ in payments], [amount for _, amount in payments]),
    ).fetchall()


def reverse_on_invoice(
    conn: Connection, invoice_id: UUID, amount: Decimal, today: date, applied: Decimal | None = None
) -> str:
    """Take `amount` back (a dispute, a reversal): off the invoice's amount_paid first (at most `applied`,
    what the payment put there, when known), the rest off the credit balance its excess made. Returns the
    invoice's new status."""
    row = conn.execute(
        "select customer_id, amount_paid from customer_invoices where id = %s for update", (invoice_id,)
    ).fetchone()
    assert row is not None
    from_invoice = min(amount if applied is None else applied, row["amount_paid"])
    from_credit = amount - from_invoice
    updated = conn.execute(
        """
        update customer_invoices
           set amount_paid = amount_paid - %(taken)s,
               status = case when amount_paid - %(taken)s > 0 then 'partially_paid'
                             when due_date < %(today)s then 'overdue' else 'issued' end,
               paid_at = null
         where id = %(invoice)s
        returning status
        """,
        {"taken": from_invoice, "today": today, "invoice": invoice_id},
    ).fetchone()
    if from_credit > 0:
        _take_back_credit(conn, row["customer_id"], from_credit, today)
    assert updated is not None
    return str(updated["status"])


def _take_back_credit(conn: Connection, customer_id: UUID, amount: Decimal, today: date) -> None:
    """Take `amount` off the customer's credit balance; what was already spent on later invoices cannot be
    taken from the balance, so it is owed again: a pending adjustment due today, carried by the next invoice
    (issued invoices are never edited). One statement, so the balance read and the charge agree."""
    conn.execute(
        """
        with held as (
          select customer_id, credit_balance from customer_billing where customer_id = %(customer)s for update
        ), taken as (
          update customer_billing b
             set credit_balance = b.credit_balance - least(h.credit_balance, %(amount)s)
            from held h where b.customer_id = h.customer_id
          returning least(h.credit_balance, %(amount)s) as taken
        )
        insert into customer_charges (customer_id, kind, description, amount, due_date)
        select %(customer)s, 'adjustment', 'Payment reversed: its credit was already used on an invoice',
               %(amount)s - coalesce((select taken from taken), 0), %(today)s
         where %(amount)s - coalesce((select taken from taken), 0) > 0
        """,
        {"customer": customer_id, "amount": amount, "today": today},
    )


def insert_reversal(
    conn: Connection,
    original: dict[str, Any],
    *,
    reason: str,
    code: str | None = None,
    reference: str | None = None,
    recorded_by: UUID | None = None,
) -> UUID:
    """A successful payment undone (a bank's dispute, an admin's correction): the original -> reversed, and a
    new reversal row of the same amount and provider naming it (one per original: a unique index)."""
    conn.execute("update payment_transactions set status = 'reversed' where id = %s", (original["id"],))
    row = conn.execute(
        """
        insert into payment_transactions (customer_id, invoice_id, payment_method_id, original_transaction_id,
                                          amount, kind, status, provider, provider_reference, failure_code,
                                          failure_reason, processed_at, recorded_by)
        values (%s, %s, %s, %s, %s, 'reversal', 'successful', %s, %s, %s, %s, now(), %s)
        returning id
        """,
        (
            original["customer_id"],
            original["invoice_id"],
            original["payment_method_id"],
            original["id"],
            original["amount"],
            original["provider"],
            None if reference is None else f"reversal:{reference}",
            code,
            reason,
            recorded_by,
        ),
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def record_applied(conn: Connection, transaction_id: UUID, applied: Decimal) -> None:
    """Keep how much of a manual payment went to its invoice (the rest became credit), so that reversing it
    takes back from each what it gave, even after later payments on the same invoice."""
    conn.execute(
        "update payment_transactions set provider_response = provider_response"
        " || jsonb_build_object('applied', %s::text) where id = %s",
        (applied, transaction_id),
    )


def lock_payment(conn: Connection, transaction_id: UUID) -> dict[str, Any] | None:
    """The transaction locked until the transaction ends (a second reversal waits, then sees `reversed`)."""
    return conn.execute(
        "select * from payment_transactions where id = %s for update", (transaction_id,)
    ).fetchone()


def invoice_for_payment(conn: Connection, invoice_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "select id, customer_id, invoice_number, kind, status, amount_due from customer_invoices"
        " where id = %s for update",
        (invoice_id,),
    ).fetchone()


def insert_manual_payment(
    conn: Connection,
    *,
    invoice: dict[str, Any],
    method: str,
    amount: Decimal,
    payment_date: date,
    bank_reference: str | None,
    admin_id: UUID,
) -> UUID:
    row = conn.execute(
        """
        insert into payment_transactions (customer_id, invoice_id, amount, kind, status, provider,
                                          action_date, provider_response, processed_at, recorded_by)
        values (%s, %s, %s, 'payment', 'successful', %s, %s, jsonb_build_object('method', %s::text,
                'bank_reference', %s::text), now(), %s)
        returning id
        """,
        (
            invoice["customer_id"],
            invoice["id"],
            amount,
            "eft" if method == "eft" else "manual",
            payment_date,
            method,
            bank_reference,
            admin_id,
        ),
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


_DAY = "coalesce(t.action_date, (t.created_at at time zone 'Africa/Johannesburg')::date)"
_LIST = f"""
    select t.id, {_DAY} as payment_date,
           t.amount, t.kind,
           case when t.provider = 'netcash' then 'debit_order'
                when t.provider = 'eft' then 'eft' else coalesce(t.provider_response->>'method', 'cash') end
             as method,
           i.invoice_number, t.status, t.failure_reason, t.customer_id, t.invoice_id, t.batch_reference,
           t.failure_code, t.attempt_number, t.created_at
      from payment_transactions t
      left join customer_invoices i on i.id = t.invoice_id
"""


def list_page(
    conn: Connection,
    *,
    customer_id: UUID | None,
    status: str | None,
    batch_reference: str | None,
    date_from: date | None,
    date_to: date | None,
    limit: int,
    after: tuple[Any, UUID] | None,
) -> list[dict[str, Any]]:
    """Newest first; `limit + 1` rows so the caller can tell whether there is a next page."""
    return conn.execute(
        _LIST
        + f"""
         where (%(customer)s::uuid is null or t.customer_id = %(customer)s)
           and (%(status)s::text is null or t.status = %(status)s)
           and (%(batch)s::text is null or t.batch_reference = %(batch)s)
           and (%(from)s::date is null or {_DAY} >= %(from)s)
           and (%(to)s::date is null or {_DAY} <= %(to)s)
           and (%(after_at)s::timestamptz is null
                or (t.created_at, t.id) < (%(after_at)s, %(after_id)s::uuid))
         order by t.created_at desc, t.id desc
         limit %(limit)s
        """,
        {
            "customer": customer_id,
            "status": status,
            "batch": batch_reference,
            "from": date_from,
            "to": date_to,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit + 1,
        },
    ).fetchall()
