"""SQL of a billing-day change: the customer's lock and its recorded billing periods."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from isp_billing.db import Connection


def lock_customer_nowait(conn: Connection, customer_id: UUID | str) -> dict[str, Any] | None:
    """The billing run's per-customer lock (FOR NO KEY UPDATE of the customer row), without waiting:
    lock_not_available when a run holds it. The billing row comes with it."""
    return conn.execute(
        """
        select c.id, b.billing_day
          from customers c left join customer_billing b on b.customer_id = c.id
         where c.id = %s
         for no key update of c nowait
        """,
        (customer_id,),
    ).fetchone()


def last_period(conn: Connection, customer_id: UUID | str) -> dict[str, Any] | None:
    """The last billed (invoiced or skipped) period recorded for the customer."""
    return conn.execute(
        """
        select period_start, period_end from billing_cycles
         where customer_id = %s and status <> 'open'
         order by period_start desc limit 1
        """,
        (customer_id,),
    ).fetchone()


def open_periods_from(conn: Connection, customer_id: UUID | str, day: date) -> list[dict[str, Any]]:
    """Recorded periods not billed yet (bridging periods)."""
    return conn.execute(
        "select period_start, period_end from billing_cycles where customer_id = %s and status = 'open'",
        (customer_id,),
    ).fetchall()


def drop_open_periods(conn: Connection, customer_id: UUID | str, after: date) -> None:
    conn.execute(
        "delete from billing_cycles where customer_id = %s and status = 'open' and period_start > %s",
        (customer_id, after),
    )


def charge_lines_of(conn: Connection, customer_id: UUID | str, period_start: date) -> list[dict[str, Any]]:
    """The service charge lines of the customer's invoice for the period starting `period_start`, with the
    price and pro-rata basis they were billed at."""
    return conn.execute(
        """
        select l.service_id, l.period_start, l.period_end,
               (l.source->>'monthly_price')::numeric(12,2) as monthly_price,
               (l.source->>'days_in_period')::int as days_in_period
          from billing_cycles bc
          join invoice_line_items l on l.invoice_id = bc.invoice_id
         where bc.customer_id = %s and bc.period_start = %s
           and l.kind in ('recurring', 'pro_rata') and l.line_key = 'charge:' || l.service_id || ':' || %s
        """,
        (customer_id, period_start, str(period_start)),
    ).fetchall()


def end_period(conn: Connection, customer_id: UUID | str, period_start: date, new_end: date) -> None:
    """Shorten the period; it keeps the pro-rata basis it was billed with."""
    conn.execute(
        """
        update billing_cycles
           set days_in_period = coalesce(days_in_period, period_end - period_start + 1), period_end = %s
         where customer_id = %s and period_start = %s
        """,
        (new_end, customer_id, period_start),
    )


def record_bridging_period(
    conn: Connection, customer_id: UUID | str, start: date, end: date, days_in_period: int
) -> None:
    conn.execute(
        """
        insert into billing_cycles (customer_id, period_start, period_end, billing_date, status,
                                    days_in_period)
        values (%s, %s, %s, %s, 'open', %s)
        """,
        (customer_id, start, end, start, days_in_period),
    )


def set_billing_day(conn: Connection, customer_id: UUID | str, billing_day: int) -> None:
    conn.execute(
        "update customer_billing set billing_day = %s where customer_id = %s", (billing_day, customer_id)
    )
