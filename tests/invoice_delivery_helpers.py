"""Invoices inserted directly for the delivery tests (PDF, render job, sender): a draft with its lines, then
the status asked for, as the billing run and the admin routes would leave it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from isp_billing.money import vat_from_inclusive


def insert_invoice(
    conn: psycopg.Connection,
    customer_id: str,
    *,
    status: str = "issued",
    lines: list[tuple[str, str]] | None = None,
    invoice_date: date = date(2026, 2, 25),
    kind: str = "recurring",
    credit_note_for: str | None = None,
    age_minutes: int = 0,
    amount_paid: str = "0.00",
) -> dict[str, Any]:
    """Lines are (description, VAT-inclusive amount); returns the invoice row."""
    lines = lines or [("Fibre 50/50 (25 Feb - 24 Mar)", "699.00")]
    total = sum((Decimal(amount) for _, amount in lines), Decimal("0.00"))
    vat = vat_from_inclusive(total, Decimal("15.00"))
    invoice_id = str(uuid.uuid4())
    period_end = invoice_date + timedelta(days=27)
    conn.execute(
        """
        insert into customer_invoices (id, customer_id, kind, invoice_date, due_date, period_start,
                                       period_end, subtotal, vat_rate, vat_amount, total_amount, status,
                                       credit_note_for, created_at)
        values (%s, %s, %s, %s, %s, %s, %s, %s, 15.00, %s, %s, 'draft', %s,
                now() - make_interval(mins => %s))
        """,
        (
            invoice_id,
            customer_id,
            kind,
            invoice_date,
            invoice_date + timedelta(days=7),
            invoice_date,
            period_end,
            total - vat,
            vat,
            total,
            credit_note_for,
            age_minutes,
        ),
    )
    for description, amount in lines:
        conn.execute(
            """
            insert into invoice_line_items (invoice_id, kind, description, unit_amount, amount, period_start,
                                            period_end)
            values (%s, %s, %s, %s, %s, %s, %s)
            """,
            (
                invoice_id,
                "credit" if Decimal(amount) < 0 else "recurring",
                description,
                amount,
                amount,
                invoice_date,
                period_end,
            ),
        )
    if status != "draft":
        conn.execute(
            "update customer_invoices set status = %s, amount_paid = %s where id = %s",
            (status, amount_paid, invoice_id),
        )
    row = conn.execute("select * from customer_invoices where id = %s", (invoice_id,)).fetchone()
    assert row is not None
    return dict(row)
