"""SQL for reconciling NetCash statement days with our collections (set-based per day)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from isp_billing.db import Connection


def last_reconciled_day(conn: Connection) -> date | None:
    row = conn.execute("select max(statement_date) as day from netcash_statement_days").fetchone()
    return None if row is None else row["day"]


def first_open_action_date(conn: Connection) -> date | None:
    row = conn.execute(
        "select min(action_date) as day from payment_transactions"
        " where provider = 'netcash' and kind = 'collection' and status = 'submitted'"
    ).fetchone()
    return None if row is None else row["day"]


def record_day(conn: Connection, day: date, lines: int) -> bool:
    row = conn.execute(
        "insert into netcash_statement_days (statement_date, lines_read) values (%s, %s)"
        " on conflict (statement_date) do nothing returning id",
        (day, lines),
    ).fetchone()
    return row is not None


def claim_lines(conn: Connection, day: date, lines: list[tuple[str, str, str, str]]) -> set[tuple[str, str]]:
    """Record (type, NetCash id, extra1, outcome) lines; returns the (type, id) pairs not seen before."""
    if not lines:
        return set()
    rows = conn.execute(
        """
        insert into netcash_statement_lines (statement_date, transaction_type, netcash_transaction_id, extra1,
                                             outcome)
        select %s, t, n, e, o from unnest(%s::text[], %s::text[], %s::text[], %s::text[]) as x(t, n, e, o)
        on conflict (transaction_type, netcash_transaction_id) do nothing
        returning transaction_type, netcash_transaction_id
        """,
        (day, [x[0] for x in lines], [x[1] for x in lines], [x[2] for x in lines], [x[3] for x in lines]),
    ).fetchall()
    return {(row["transaction_type"], row["netcash_transaction_id"]) for row in rows}


def collections_by_id(conn: Connection, ids: list[UUID]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        """
        select t.*, c.account_number, i.invoice_number
          from payment_transactions t
          join customers c on c.id = t.customer_id
          left join customer_invoices i on i.id = t.invoice_id
         where t.id = any(%s::uuid[]) and t.kind = 'collection' and t.provider = 'netcash'
         for update of t
        """,
        (ids,),
    ).fetchall()
    return {str(row["id"]): row for row in rows}


def collection_now(conn: Connection, collection_id: UUID) -> dict[str, Any]:
    """The collection as it is now in this transaction (after the day's earlier lines moved it), locked."""
    found = collections_by_id(conn, [collection_id])
    return found[str(collection_id)]


def mark_successful(
    conn: Connection, ids: list[UUID], provider_references: list[str]
) -> list[dict[str, Any]]:
    """Submitted collections -> successful, with NetCash's transaction id; returns (id, invoice, amount)."""
    if not ids:
        return []
    return conn.execute(
        """
        update payment_transactions t
           set status = 'successful', processed_at = now(), provider_reference = x.ref
          from unnest(%s::uuid[], %s::text[]) as x(id, ref)
         where t.id = x.id and t.status = 'submitted'
        returning t.id, t.invoice_id, t.customer_id, t.amount
        """,
        (ids, provider_references),
    ).fetchall()


def mark_failed(conn: Connection, transaction_id: UUID, code: str, reason: str, reference: str) -> bool:
    row = conn.execute(
        """
        update payment_transactions
           set status = 'failed', failure_code = %s, failure_reason = %s, processed_at = now(),
               provider_reference = coalesce(provider_reference, %s)
         where id = %s and status = 'submitted'
        returning id
        """,
        (code, reason, reference, transaction_id),
    ).fetchone()
    return row is not None


def unpaid_code(conn: Connection, code: str) -> dict[str, Any] | None:
    return conn.execute("select * from unpaid_reason_codes where code = %s", (code,)).fetchone()


def previous_return_code(conn: Connection, payment_method_id: UUID, before: UUID) -> str | None:
    """The code of the method's last collection before this one, if the bank returned it (None if paid):
    returned before its paid line (`failed`) or after it (`reversed` by a reversal with the bank's code)."""
    row = conn.execute(
        """
        select t.status, coalesce(r.failure_code, t.failure_code) as code, r.id is not null as returned_late
          from payment_transactions t
          left join payment_transactions r
            on r.original_transaction_id = t.id and r.kind = 'reversal' and r.failure_code ~ '^[0-9]+$'
         where t.payment_method_id = %s and t.kind = 'collection' and t.id <> %s
           and t.status in ('successful', 'failed', 'reversed')
           and t.failure_code is distinct from 'not_submitted'
           and t.failure_code is distinct from 'load_rejected'
         order by t.action_date desc nulls last, t.created_at desc
         limit 1
        """,
        (payment_method_id, before),
    ).fetchone()
    if row is None or not (row["status"] == "failed" or row["returned_late"]):
        return None
    return str(row["code"])


def block_mandate(conn: Connection, collection: dict[str, Any], code: str, reason: str) -> None:
    conn.execute(
        """
        insert into mandate_collection_blocks (payment_method_id, customer_id, unpaid_code, reason,
                                               transaction_id)
        values (%s, %s, %s, %s, %s) on conflict (payment_method_id) do nothing
        """,
        (collection["payment_method_id"], collection["customer_id"], code, reason, collection["id"]),
    )


def record_unmatched(conn: Connection, day: date, lines: list[tuple[str, str, str]]) -> None:
    """Statement lines that match no collection of ours: (type, NetCash id, extra1)."""
    if not lines:
        return
    conn.execute(
        """
        insert into validation_errors (source, record_type, record_ref, error_code, message, suggested_fix,
                                       payload)
        select 'debit_orders', 'statement_line', t || ':' || n, 'unmatched_statement_line',
               'A NetCash statement line matches no collection of ours.',
               'Check the line in the NetCash portal and record the payment by hand if it is ours.',
               jsonb_build_object('statement_date', %s::text, 'type', t, 'extra1', e)
          from unnest(%s::text[], %s::text[], %s::text[]) as x(t, n, e)
        on conflict (source, record_ref, error_code) where resolved_at is null do nothing
        """,
        (day.isoformat(), [x[0] for x in lines], [x[1] for x in lines], [x[2] for x in lines]),
    )


def record_unexpected(
    conn: Connection,
    day: date,
    line: Any,
    collection: dict[str, Any],
    error_code: str,
    message: str,
    fix: str,
) -> None:
    """A statement line that found its collection in a state it cannot move from: one open validation error
    per line, with the line and the collection's state."""
    reference = f"{line.transaction_type}:{line.transaction_id}"
    conn.execute(
        """
        insert into validation_errors (source, record_type, record_id, record_ref, error_code, message,
                                       suggested_fix, payload)
        values ('debit_orders', 'statement_line', %s, %s, %s, %s, %s,
                jsonb_build_object('statement_date', %s::text, 'type', %s::text, 'extra1', %s::text,
                                   'amount', %s::text, 'description', %s::text, 'collection_status', %s::text,
                                   'invoice_id', %s::text, 'customer_id', %s::text))
        on conflict (source, record_ref, error_code) where resolved_at is null do nothing
        """,
        (
            collection["id"],
            reference,
            error_code,
            message[:500],
            fix,
            day.isoformat(),
            line.transaction_type,
            line.extra1,
            str(line.amount),
            line.description[:200],
            collection["status"],
            str(collection["invoice_id"]),
            str(collection["customer_id"]),
        ),
    )


def record_unanswered(conn: Connection, cutoff: date) -> int:
    """NetCash collections still `submitted` with an action date on or before `cutoff` (no statement line
    answered them in time): one open validation error each (a re-run adds none). Returns how many such
    collections there are now, recorded before or not."""
    rows = conn.execute(
        """
        with stuck as (
          select t.id, t.customer_id, t.invoice_id, t.batch_reference, t.action_date, t.amount
            from payment_transactions t
           where t.provider = 'netcash' and t.kind = 'collection' and t.status = 'submitted'
             and t.action_date <= %s
        ), recorded as (
          insert into validation_errors (source, record_type, record_id, record_ref, error_code, message,
                                         suggested_fix, payload)
          select 'debit_orders', 'collection', s.id, s.id::text, 'collection_unanswered',
                 'NetCash has not answered this debit order (no paid or unpaid line) long after its'
                 ' action date.',
                 'Look the collection up in the NetCash portal and record its outcome; the invoice'
                 ' stays unpaid and is not debited again until then.',
                 jsonb_build_object('action_date', s.action_date::text, 'batch', s.batch_reference,
                                    'amount', s.amount::text, 'invoice_id', s.invoice_id::text,
                                    'customer_id', s.customer_id::text)
            from stuck s
          on conflict (source, record_ref, error_code) where resolved_at is null do nothing
        )
        select count(*) as n from stuck
        """,
        (cutoff,),
    ).fetchone()
    return int(rows["n"]) if rows else 0


def record_money_received(conn: Connection, collection: dict[str, Any], line: Any, day: date) -> UUID | None:
    """A paid statement line that found its collection no longer `submitted` (paid twice, or paid after we
    failed it): the money still arrived, so it is a payment of its own, keyed by the statement line
    (re-reading the same statement day records it once: None the second time)."""
    row = conn.execute(
        """
        insert into payment_transactions (customer_id, invoice_id, amount, kind, status, provider,
                                          provider_reference, action_date, provider_response, processed_at)
        values (%s, %s, %s, 'payment', 'successful', 'netcash', %s, %s,
                jsonb_build_object('method', 'debit_order', 'collection_id', %s::text), now())
        on conflict (provider, provider_reference) where provider_reference is not null do nothing
        returning id
        """,
        (
            collection["customer_id"],
            collection["invoice_id"],
            line.amount,
            f"statement:{line.transaction_type}:{line.transaction_id}",
            day,
            str(collection["id"]),
        ),
    ).fetchone()
    return None if row is None else row["id"]
