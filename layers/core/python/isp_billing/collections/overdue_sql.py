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


# When an owing invoice `i` becomes enforceable (its grace period starts): its due date, but never while a
# debit order for it is in flight (a `pending`/`submitted` collection: `d.live`), never before the date its
# live mandate will debit it (`m.mandated`: the debit day on or after the invoice date, or after the last
# debit the bank returned, as the debit run picks it), and never before the action date of a debit the bank
# returned (before or after its paid line). Needs `i` joined; adds the laterals `d` and `m`.
_ENFORCEABLE_JOINS = """
  left join customer_billing eb on eb.customer_id = i.customer_id
  left join lateral (
    select bool_or(t.status in ('pending', 'submitted')) as live,
           max(t.action_date) filter (
             where (t.status = 'failed' and t.failure_code ~ '^[0-9]+$')
                or (t.status = 'reversed'
                    and exists (select 1 from payment_transactions r
                                 where r.original_transaction_id = t.id and r.kind = 'reversal'
                                   and r.failure_code ~ '^[0-9]+$'))
           ) as last_returned
      from payment_transactions t
     where t.invoice_id = i.id and t.kind = 'collection'
  ) d on true
  left join lateral (
    select public.debit_date_on_or_after(greatest(i.invoice_date, d.last_returned + 1), eb.debit_day)
             as mandated
     where eb.auto_pay and eb.debit_day is not null
       and exists (select 1 from customer_payment_methods pm
                    where pm.customer_id = i.customer_id and pm.is_primary and pm.is_active
                      and pm.method_type = 'debit_order' and pm.mandate_status = 'accepted'
                      and not exists (select 1 from mandate_collection_blocks k
                                       where k.payment_method_id = pm.id))
  ) m on true
"""
_ENFORCEABLE_BEFORE = (
    "(d.live is not true and greatest(i.due_date, m.mandated, d.last_returned) < %(cutoff)s)"
)


def services_to_suspend(
    conn: Connection, cutoff: date, service_ids: Sequence[UUID] | None = None
) -> list[dict[str, Any]]:
    """Active services of non-test customers owing an invoice enforceable before `cutoff` (past the grace
    period, no debit in flight or still to come); with `service_ids`, only those (the re-check)."""
    return conn.execute(
        f"""
        select s.id as service_id, s.customer_id, min(i.due_date) as oldest_due,
               sum(i.amount_due) as overdue_amount, string_agg(i.invoice_number, ', ') as invoice_numbers
          from customer_services s
          join customers c on c.id = s.customer_id and not c.is_test
          join customer_invoices i on i.customer_id = s.customer_id and {_OWING}
          {_ENFORCEABLE_JOINS}
         where s.status = 'active' and {_ENFORCEABLE_BEFORE}
           and (%(services)s::uuid[] is null or s.id = any(%(services)s::uuid[]))
         group by s.id, s.customer_id
         order by s.customer_id, s.id
        """,
        {"cutoff": cutoff, "services": None if service_ids is None else list(service_ids)},
    ).fetchall()


def lock_customer_debt(conn: Connection, customer_id: UUID) -> None:
    """Lock the customer's owing invoices until the transaction ends. A payment applies itself under these
    row locks, so one in flight is waited for, and a statement after this one sees it committed."""
    conn.execute(
        f"select i.id from customer_invoices i where i.customer_id = %s and {_OWING} for update",
        (customer_id,),
    )


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
                           {_ENFORCEABLE_JOINS}
                            where i.customer_id = s.customer_id and {_OWING}
                              and {_ENFORCEABLE_BEFORE})
         order by s.customer_id, s.id
        """,
        {"cutoff": cutoff, "customers": None if customer_ids is None else list(customer_ids)},
    ).fetchall()
