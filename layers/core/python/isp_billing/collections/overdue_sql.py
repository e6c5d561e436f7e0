"""SQL for the overdue job: mark invoices overdue, who is past the grace period, what the system suspended."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from isp_billing.db import Connection

# An invoice of `i` that still owes (credit notes never do).
_OWING = (
    "i.status in ('issued', 'partially_paid', 'overdue') and i.kind <> 'credit_note' and i.amount_due > 0"
)


def mark_overdue(conn: Connection, today: date) -> int:
    """Issued or partly paid invoices past their due date become `overdue` (set-based)."""
    rows = conn.execute(
        "update customer_invoices set status = 'overdue'"
        " where status in ('issued', 'partially_paid') and amount_due > 0 and due_date < %s returning id",
        (today,),
    ).fetchall()
    return len(rows)


def services_to_suspend(conn: Connection, cutoff: date) -> list[dict[str, Any]]:
    """Active services of non-test customers owing an invoice due before `cutoff` (past the grace period)."""
    return conn.execute(
        f"""
        select s.id as service_id, s.customer_id, min(i.due_date) as oldest_due,
               sum(i.amount_due) as overdue_amount, string_agg(i.invoice_number, ', ') as invoice_numbers
          from customer_services s
          join customers c on c.id = s.customer_id and not c.is_test
          join customer_invoices i on i.customer_id = s.customer_id and {_OWING}
                                  and i.due_date < %s
         where s.status = 'active'
         group by s.id, s.customer_id
         order by s.customer_id, s.id
        """,
        (cutoff,),
    ).fetchall()


def services_to_reactivate(
    conn: Connection, cutoff: date, customer_ids: Sequence[UUID] | None = None
) -> list[dict[str, Any]]:
    """Services the system suspended for non-payment whose customer no longer owes past the grace period;
    with `customer_ids`, only those customers' (the prompt reactivation after a payment)."""
    return conn.execute(
        f"""
        select s.id as service_id, s.customer_id
          from customer_services s
          join service_suspensions x on x.service_id = s.id and x.reactivated_at is null
                                    and x.suspension_type = 'non_payment' and x.suspended_by is null
         where s.status = 'suspended'
           and (%(customers)s::uuid[] is null or s.customer_id = any(%(customers)s::uuid[]))
           and not exists (select 1 from customer_invoices i
                            where i.customer_id = s.customer_id and {_OWING}
                              and i.due_date < %(cutoff)s)
         order by s.customer_id, s.id
        """,
        {"cutoff": cutoff, "customers": None if customer_ids is None else list(customer_ids)},
    ).fetchall()
