"""Demo data for collections: the demo customer pays by debit order (auto-pay) and owes one issued invoice
dated on their last debit day, so once they sign a mandate (the fake NetCash's page) the
process-debit-orders run debits it and, the fake paying authorised batches on their action date, the
reconcile-payments run settles it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg

from isp_billing.clock import sast_today
from isp_billing.collections.action_dates import debit_date_in_month
from isp_billing.money import vat_from_inclusive

DEMO_INVOICE_ID = "60000000-0000-4000-8000-000000000001"
DEMO_INVOICE_TOTAL = Decimal("699.00")


def seed_collections_demo(conn: psycopg.Connection[Any]) -> None:
    from isp_billing_cli.demo import CUSTOMERS

    customer_id, debit_day = CUSTOMERS[0][0], int(CUSTOMERS[0][6])
    today = sast_today()
    invoice_date = debit_date_in_month(today.year, today.month, debit_day)
    if invoice_date > today:
        last_month = today.replace(day=1) - timedelta(days=1)
        invoice_date = debit_date_in_month(last_month.year, last_month.month, debit_day)
    conn.execute("update customer_billing set auto_pay = true where customer_id = %s", (customer_id,))
    vat = vat_from_inclusive(DEMO_INVOICE_TOTAL, Decimal("15"))
    created = conn.execute(
        """
        insert into customer_invoices (id, customer_id, kind, invoice_date, due_date, period_start,
                                       period_end, subtotal, vat_rate, vat_amount, total_amount, status)
        values (%s, %s, 'one_off', %s, %s, %s, %s, %s, 15, %s, %s, 'issued')
        on conflict (id) do nothing
        returning id
        """,
        (
            DEMO_INVOICE_ID,
            customer_id,
            invoice_date,
            invoice_date + timedelta(days=7),
            invoice_date,
            invoice_date + timedelta(days=30),
            DEMO_INVOICE_TOTAL - vat,
            vat,
            DEMO_INVOICE_TOTAL,
        ),
    )
    # Its line, in the same transaction as the invoice (the issued-invoice guard allows no later line), so
    # the customer's and the admin's views and the PDF say what the amount is for.
    if created.fetchone() is None:
        return
    conn.execute(
        """
        insert into invoice_line_items (invoice_id, kind, description, quantity, unit_amount, amount,
                                        period_start, period_end, source)
        select %s, 'adjustment', 'Fibre service, month in arrears (opening balance)', 1, %s, %s, %s, %s,
               '{"rule": "demo_opening_balance"}'::jsonb
        """,
        (
            DEMO_INVOICE_ID,
            DEMO_INVOICE_TOTAL,
            DEMO_INVOICE_TOTAL,
            invoice_date,
            invoice_date + timedelta(days=30),
        ),
    )
