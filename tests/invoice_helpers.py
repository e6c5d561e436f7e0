"""Invoices written straight into the database, as the billing run would (issued with their lines in one
transaction), for tests whose subject is reading, correcting or delivering them (PDF, render job, sender)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from isp_billing.money import vat_from_inclusive
from tests.ledger_helpers import receive

VAT_RATE = Decimal("15.00")


def line(
    amount: str, kind: str = "recurring", description: str = "Fibre 50/50", **extra: Any
) -> dict[str, Any]:
    return {"amount": amount, "kind": kind, "description": description, **extra}


def insert_invoice(
    conn: psycopg.Connection,
    customer_id: str,
    *,
    lines: list[dict[str, Any]] | None = None,
    status: str = "issued",
    invoice_date: str | date = "2026-02-25",
    due_date: str | date | None = None,
    period: tuple[str, str] | None = ("2026-02-25", "2026-03-24"),
    kind: str = "one_off",
    amount_paid: str = "0.00",
    pdf_generated_at: str | None = None,
    credit_note_for: str | None = None,
    age_minutes: int = 0,
) -> dict[str, Any]:
    """An invoice (kind one_off by default, so several per customer may share a period) and its lines;
    returns the row with `line_ids`. The due date defaults to 7 days after the invoice date; `age_minutes`
    back-dates `created_at` (for the sweeps that look for invoices issued a while ago)."""
    lines = lines if lines is not None else [line("699.00", source={"rule": "recurring"})]
    total = sum((Decimal(item["amount"]) for item in lines), Decimal("0.00"))
    vat = vat_from_inclusive(total, VAT_RATE)
    issued_on = date.fromisoformat(invoice_date) if isinstance(invoice_date, str) else invoice_date
    with conn.transaction():
        invoice = conn.execute(
            """
            insert into customer_invoices (customer_id, kind, invoice_date, due_date, period_start,
                                           period_end, subtotal, vat_rate, vat_amount, total_amount, status,
                                           amount_paid, pdf_url, pdf_generated_at, credit_note_for)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            returning *
            """,
            (
                customer_id,
                kind,
                issued_on,
                due_date or issued_on + timedelta(days=7),
                period[0] if period else None,
                period[1] if period else None,
                total - vat,
                VAT_RATE,
                vat,
                total,
                status,
                amount_paid,
                "s3://invoices/x.pdf" if pdf_generated_at else None,
                pdf_generated_at,
                credit_note_for,
            ),
        ).fetchone()
        ids = []
        for item in lines:
            row = conn.execute(
                """
                insert into invoice_line_items (invoice_id, service_id, kind, description, quantity,
                                                unit_amount, amount, period_start, period_end, source)
                values (%s, %s, %s, %s, 1, %s, %s, %s, %s, %s) returning id
                """,
                (
                    invoice["id"],
                    item.get("service_id"),
                    item["kind"],
                    item["description"],
                    item["amount"],
                    item["amount"],
                    item.get("period_start", period[0] if period else None),
                    item.get("period_end", period[1] if period else None),
                    json.dumps(item.get("source", {})),
                ),
            ).fetchone()
            ids.append(str(row["id"]))
        if age_minutes:
            # After the lines: the lines trigger accepts them only on an invoice created in this transaction.
            invoice = conn.execute(
                "update customer_invoices set created_at = now() - make_interval(mins => %s)"
                " where id = %s returning *",
                (age_minutes, invoice["id"]),
            ).fetchone()
    return {**invoice, "id": str(invoice["id"]), "line_ids": ids}


def insert_payment(
    conn: psycopg.Connection,
    invoice: dict[str, Any],
    amount: str,
    *,
    status: str = "successful",
    processed_at: str = "2026-02-27 10:00+02",
) -> str:
    """A payment transaction for the invoice, received in the ledger (when successful) as collections
    would."""
    row = conn.execute(
        """
        insert into payment_transactions (customer_id, invoice_id, amount, kind, status, provider,
                                          processed_at)
        values (%s, %s, %s, 'collection', %s, 'eft', %s) returning id
        """,
        (invoice["customer_id"], invoice["id"], amount, status, processed_at),
    ).fetchone()
    if status == "successful":
        receive(conn, invoice, row["id"], amount, date.fromisoformat(processed_at[:10]))
    return str(row["id"])
