"""SQL of admin actions on an invoice: the row lock, the changes (credit, void, write-off), the credit note
document and the append-only action log."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing.billing.run_sql import dumps
from isp_billing.db import Connection

# The invoice as the action log records it (before/after): the figures an action can move.
SNAPSHOT = (
    "id, customer_id, invoice_number, kind, status, total_amount, amount_paid, amount_credited,"
    " amount_due, amount_written_off, paid_at, vat_rate, invoice_date, due_date, period_start, period_end,"
    " credit_note_for"
)


def lock_invoice(conn: Connection, invoice_id: UUID) -> dict[str, Any] | None:
    """The invoice locked until the transaction ends: actions on it (two credit notes at once, a payment
    being settled) queue behind this one. FOR NO KEY UPDATE lets rows that only reference it (the credit
    note, the log row) be inserted meanwhile."""
    return conn.execute(
        f"select {SNAPSHOT} from customer_invoices where id = %s for no key update", (invoice_id,)
    ).fetchone()


def update_invoice(conn: Connection, invoice_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    allowed = {"status"}  # what money does to an invoice is the ledger's (ledger_refresh)
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not updatable here: {sorted(unknown)}")
    assignments = ", ".join(f"{column} = %({column})s" for column in changes)
    row = conn.execute(
        f"update customer_invoices set {assignments} where id = %(id)s returning {SNAPSHOT}",
        {**changes, "id": invoice_id},
    ).fetchone()
    assert row is not None
    return row


def credited_so_far(conn: Connection, invoice_id: UUID) -> Decimal:
    """What the credit notes on the invoice add up to (a positive amount)."""
    row = conn.execute(
        "select coalesce(-sum(total_amount), 0) as credited"
        " from customer_invoices where credit_note_for = %s",
        (invoice_id,),
    ).fetchone()
    return Decimal(row["credited"]) if row else Decimal("0.00")


def collecting(conn: Connection, invoice_id: UUID) -> Decimal:
    """What collections already in flight (pending or submitted) will take for the invoice."""
    row = conn.execute(
        "select coalesce(sum(amount), 0) as amount from payment_transactions"
        " where invoice_id = %s and kind = 'collection' and status in ('pending', 'submitted')",
        (invoice_id,),
    ).fetchone()
    return Decimal(row["amount"]) if row else Decimal("0.00")


def credited_per_line(conn: Connection, invoice_id: UUID) -> dict[str, Decimal]:
    """Per line of the invoice (its id as text), what earlier credit notes took off it (positive)."""
    rows = conn.execute(
        """
        select l.source ->> 'credits_line_id' as line_id, -sum(l.amount) as credited
          from customer_invoices n
          join invoice_line_items l on l.invoice_id = n.id
         where n.credit_note_for = %s and l.source ? 'credits_line_id'
         group by 1
        """,
        (invoice_id,),
    ).fetchall()
    return {row["line_id"]: Decimal(row["credited"]) for row in rows}


def insert_credit_note(conn: Connection, note: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The credit note, issued, numbered by the trigger (CRN-YYYY-NNNNN, gap-free in this transaction), and
    its lines in one statement (allowed on an invoice issued in the same transaction)."""
    row = conn.execute(
        f"""
        insert into customer_invoices (customer_id, kind, invoice_date, due_date, period_start, period_end,
                                       subtotal, vat_rate, vat_amount, total_amount, status, credit_note_for)
        values (%(customer_id)s, 'credit_note', %(invoice_date)s, %(invoice_date)s, %(period_start)s,
                %(period_end)s, %(subtotal)s, %(vat_rate)s, %(vat_amount)s, %(total_amount)s, 'issued',
                %(credit_note_for)s)
        returning {SNAPSHOT}
        """,
        note,
    ).fetchone()
    assert row is not None
    conn.execute(
        """
        insert into invoice_line_items (invoice_id, service_id, kind, description, quantity, unit_amount,
                                        amount, period_start, period_end, source)
        select %s, service_id, 'credit', description, 1, amount, amount, period_start, period_end,
               source::jsonb
          from json_to_recordset(%s::json)
               as v(service_id uuid, description text, amount numeric, period_start date, period_end date,
                    source json)
        """,
        (row["id"], dumps(lines)),
    )
    return row


def log_action(conn: Connection, entry: dict[str, Any]) -> None:
    conn.execute(
        """
        insert into invoice_action_log (invoice_id, customer_id, action, previous_status, new_status, reason,
                                        actor_type, actor_admin_id, request_id, previous_data, new_data,
                                        details)
        values (%(invoice_id)s, %(customer_id)s, %(action)s, %(previous_status)s, %(new_status)s, %(reason)s,
                'admin', %(actor_admin_id)s, %(request_id)s, %(previous_data)s::jsonb, %(new_data)s::jsonb,
                %(details)s::jsonb)
        """,
        {
            **entry,
            # Money, dates and ids as their text (Decimal's text keeps the two decimals of numeric(12,2)).
            "previous_data": dumps(entry["previous_data"]),
            "new_data": dumps(entry["new_data"]),
            "details": dumps(entry.get("details") or {}),
        },
    )


def for_invoice(conn: Connection, invoice_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        """
        select id, action, previous_status, new_status, reason, actor_type, actor_admin_id, request_id,
               previous_data, new_data, details, created_at
          from invoice_action_log where invoice_id = %s order by created_at, id
        """,
        (invoice_id,),
    ).fetchall()
