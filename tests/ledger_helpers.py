"""Money on account arranged through the ledger, as the code under test would leave it: a payment received
on an invoice, or credit held on the account (an opening balance)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from isp_billing.clock import sast_today
from isp_billing.ledger import postings


def receive(
    conn: psycopg.Connection,
    invoice: dict[str, Any],
    transaction_id: Any,
    amount: str,
    day: date | None = None,
) -> None:
    """The payment transaction `transaction_id` received on the invoice: allocated, the rest to credit."""
    postings.receive_payments(
        conn,  # type: ignore[arg-type]
        [
            {
                "transaction_id": transaction_id,
                "customer_id": invoice["customer_id"],
                "invoice_id": invoice["id"],
                "amount": Decimal(amount),
                "entry_date": day or sast_today(),
            }
        ],
        sast_today(),
    )


def hold_credit(conn: psycopg.Connection, customer_id: Any, amount: str | Decimal) -> None:
    """Credit on the customer's account (an opening balance in the ledger); nothing when zero."""
    if Decimal(amount) == 0:
        return
    conn.execute(
        "insert into ledger_entries (customer_id, kind, amount, note)"
        " values (%s, 'opening_balance', %s, 'arranged')",
        (customer_id, amount),
    )
    conn.execute("select public.ledger_refresh('{}', array[%s::uuid], %s)", (customer_id, sast_today()))


def credit_balance(conn: psycopg.Connection, customer_id: Any) -> Decimal:
    row = conn.execute(
        "select credit_balance from customer_billing where customer_id = %s", (customer_id,)
    ).fetchone()
    assert row is not None
    return Decimal(row["credit_balance"])
