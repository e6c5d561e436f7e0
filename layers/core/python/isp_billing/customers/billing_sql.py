"""SQL for customer_billing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from isp_billing.db import Connection


def get_for_customer(conn: Connection, customer_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        """
        select billing_day, payment_terms_days, invoice_email, auto_pay, debit_day, credit_balance
          from customer_billing
         where customer_id = %s
        """,
        (customer_id,),
    ).fetchone()
