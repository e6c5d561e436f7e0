"""SQL of invoice delivery: what a tax invoice prints, where its PDF is stored, which invoices still lack one,
and the `invoice_issued` e-mails the billing run queues (one INSERT ... SELECT per chunk)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from isp_billing.db import Connection
from isp_billing.notifications import queue_sql as notifications

# A PDF exists for an invoice a customer can see: never a draft (not an invoice yet) nor a void one.
DELIVERABLE = "i.status not in ('draft', 'void')"


def document(conn: Connection, invoice_id: UUID, customer_id: UUID | None = None) -> dict[str, Any] | None:
    """The invoice, its customer and its lines (a `lines` list), or None. With `customer_id` (a customer's
    session, under RLS as well) only that customer's invoice is found."""
    row = conn.execute(
        f"""
        select i.id, i.customer_id, i.invoice_number, i.kind, i.invoice_date, i.due_date, i.period_start,
               i.period_end, i.subtotal, i.vat_rate, i.vat_amount, i.total_amount, i.amount_paid,
               i.amount_credited, i.account_credit_applied, i.amount_due, i.status, i.pdf_url,
               i.pdf_generated_at, i.usage_totals,
               corrected.invoice_number as credit_note_for_number,
               c.account_number, c.first_name, c.last_name, c.customer_type, c.company_name, c.vat_number,
               coalesce(c.postal_address, c.physical_address) as address,
               coalesce((select json_agg(json_build_object(
                                  'description', l.description, 'period_start', l.period_start,
                                  'period_end', l.period_end, 'amount', l.amount)
                                order by l.period_start nulls last, l.created_at, l.id)
                           from invoice_line_items l where l.invoice_id = i.id), '[]'::json) as lines
          from customer_invoices i
          join customers c on c.id = i.customer_id
          left join customer_invoices corrected on corrected.id = i.credit_note_for
         where i.id = %(id)s and {DELIVERABLE}
           and (%(customer)s::uuid is null or i.customer_id = %(customer)s::uuid)
        """,
        {"id": invoice_id, "customer": customer_id},
    ).fetchone()
    return row


def record_pdf(conn: Connection, invoice_id: UUID, pdf_url: str) -> bool:
    """Store where the PDF is; the first writer wins (a second render stored the same bytes at the same
    key)."""
    cursor = conn.execute(
        """
        update customer_invoices set pdf_url = %s, pdf_generated_at = now()
         where id = %s and pdf_url is null
        """,
        (pdf_url, invoice_id),
    )
    return cursor.rowcount == 1


def missing_pdfs(conn: Connection, older_than_minutes: int, limit: int) -> list[UUID]:
    """Deliverable invoices issued more than `older_than_minutes` ago that still have no PDF, oldest first
    (the queue should have rendered them by then: a lost enqueue, or a render that ended in the DLQ)."""
    rows = conn.execute(
        f"""
        select i.id from customer_invoices i
         where i.pdf_url is null and {DELIVERABLE}
           and i.created_at < now() - make_interval(mins => %s)
         order by i.created_at, i.id
         limit %s
        """,
        (older_than_minutes, limit),
    ).fetchall()
    return [row["id"] for row in rows]


def queue_issued(conn: Connection, invoice_ids: list[UUID], pdf_link_base: str) -> int:
    """One `invoice_issued` e-mail per invoice, in the caller's transaction, one statement for all of them;
    the dedupe key `invoice_issued:<invoice id>` makes a re-run queue none twice. Returns how many are new.

    The data is what the template prints, copied now (money as strings), so the e-mail says what the invoice
    said when it was issued whenever it is sent.
    """
    if not invoice_ids:
        return 0
    rows = conn.execute(
        f"""
        insert into notifications (customer_id, kind, recipient, subject, template, data, dedupe_key)
        select i.customer_id, 'invoice_issued', {notifications.recipient_sql("i.customer_id")},
               left('Your tax invoice ' || i.invoice_number, 200), 'invoice_issued',
               jsonb_build_object(
                 'invoice_id', i.id, 'invoice_number', i.invoice_number,
                 'invoice_date', i.invoice_date, 'due_date', i.due_date,
                 'period_start', i.period_start, 'period_end', i.period_end,
                 'total_amount', to_char(i.total_amount, 'FM999999999990.00'),
                 'amount_due', to_char(i.amount_due, 'FM999999999990.00'),
                 'first_name', c.first_name, 'account_number', c.account_number,
                 'pdf_link', %(base)s || '/api/customer/invoices/' || i.id || '/pdf'),
               'invoice_issued:' || i.id
          from customer_invoices i
          join customers c on c.id = i.customer_id
         where i.id = any(%(ids)s) and {DELIVERABLE}
        on conflict (dedupe_key) do nothing
        returning id
        """,
        {"ids": list(invoice_ids), "base": pdf_link_base.rstrip("/")},
    ).fetchall()
    return len(rows)


def unrendered_for_period(conn: Connection, customer_ids: list[UUID], period_start: date) -> list[UUID]:
    """The recurring invoices of these customers for the period starting `period_start` without a PDF."""
    rows = conn.execute(
        f"""
        select i.id from customer_invoices i
         where i.customer_id = any(%s) and i.period_start = %s and i.kind = 'recurring'
           and i.pdf_url is null and {DELIVERABLE}
         order by i.id
        """,
        (list(customer_ids), period_start),
    ).fetchall()
    return [row["id"] for row in rows]
