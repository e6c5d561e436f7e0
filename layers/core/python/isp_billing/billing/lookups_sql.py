"""Read-only billing lookups the service lifecycle needs (a cancellation's final period)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from isp_billing.db import Connection


def billing_day(conn: Connection, customer_id: UUID) -> int | None:
    row = conn.execute(
        "select billing_day from customer_billing where customer_id = %s", (customer_id,)
    ).fetchone()
    return None if row is None else int(row["billing_day"])


def recurring_invoice_for_period(
    conn: Connection, customer_id: UUID, period_start: date
) -> dict[str, Any] | None:
    """The customer's recurring invoice for the period starting `period_start` (void ones do not count)."""
    return conn.execute(
        """
        select id, invoice_number, status from customer_invoices
         where customer_id = %s and kind = 'recurring' and period_start = %s and status <> 'void'
        """,
        (customer_id, period_start),
    ).fetchone()
