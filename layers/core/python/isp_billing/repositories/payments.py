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


def reverse_on_invoice(conn: Connection, invoice_id: UUID, amount: Decimal, today: date) -> str:
    """Take `amount` back (a dispute, a reversal): off the invoice's amount_paid first, the rest off the
    credit balance its excess made. Returns the invoice's new status."""
    row = conn.execute(
        "select customer_id, amount_paid from customer_invoices where id = %s for update", (invoice_id,)
    ).fetchone()
    assert row is not None
    from_invoice = min(amount, row["amount_paid"])
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
        conn.execute(
            "update customer_billing set credit_balance = greatest(credit_balance - %s, 0)"
            " where customer_id = %s",
            (from_credit, row["customer_id"]),
        )
    assert updated is not None
    return str(updated["status"])
