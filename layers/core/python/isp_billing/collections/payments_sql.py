"""SQL of payment transactions: manual payments, reversal rows and the payment lists. What a payment does
to its invoice and the credit balance is the ledger's (isp_billing.ledger.postings)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing.db import Connection


def invoice_status(conn: Connection, invoice_id: UUID) -> str:
    row = conn.execute("select status from customer_invoices where id = %s", (invoice_id,)).fetchone()
    assert row is not None
    return str(row["status"])


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
