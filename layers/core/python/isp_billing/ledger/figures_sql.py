"""The derived figures readers share beyond the invoice's own columns: the account credit applied to an
invoice (shown below its total), and the money a customer paid (every receipt: debit orders, EFT, cash)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing.db import Connection

ZERO = Decimal("0.00")


def account_credit_applied(conn: Connection, invoice_ids: Sequence[UUID]) -> dict[UUID, Decimal]:
    """Per invoice: the money on account the billing run (or a later allocation) applied to it."""
    if not invoice_ids:
        return {}
    rows = conn.execute(
        "select invoice_id, account_credit from ledger_invoice_figures where invoice_id = any(%s::uuid[])",
        ([str(i) for i in invoice_ids],),
    ).fetchall()
    return {row["invoice_id"]: Decimal(row["account_credit"]) for row in rows}


def payments_received(conn: Connection, customer_id: UUID, since: date) -> dict[str, Any]:
    """What the customer paid since `since` (receipts less their reversals) and their last payment."""
    row = conn.execute(
        """
        select coalesce(sum(r.amount - coalesce(v.amount, 0)) filter (where r.entry_date >= %(since)s), 0)
                 as paid,
               (array_agg(r.amount order by r.entry_date desc, r.created_at desc)
                  filter (where v.id is null))[1] as last_amount,
               max(r.entry_date) filter (where v.id is null) as last_date
          from ledger_entries r
          left join ledger_entries v on v.source_id = r.id and v.kind = 'receipt_reversal'
         where r.customer_id = %(customer)s and r.kind = 'receipt'
        """,
        {"customer": customer_id, "since": since},
    ).fetchone()
    assert row is not None
    return row
