"""SQL of the billing run: the facts of a chunk of customers (one statement per kind of fact) and the writes
(one statement per table). Never a statement per customer or per line."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic_core import to_json

from isp_billing.db import Connection
from isp_billing.errors import Conflict
from isp_billing.usage.sql import effective_days_of

# A chunk's customer ids as one uuid[] literal, built once per chunk and sent as text to each read: psycopg's
# list dumper formats and escapes every element again for every statement (~10% of a chunk's Python time).
Ids = list[UUID] | str


def uuid_array(ids: Iterable[UUID]) -> str:
    return "{" + ",".join(map(str, ids)) + "}"


def _ids(ids: Ids) -> str:
    return ids if isinstance(ids, str) else uuid_array(ids)


# How far back the facts reach: the previous period and a margin (a period has at most 31 days).
LOOKBACK = timedelta(days=70)


def due_customers(conn: Connection, first: date, last: date) -> list[dict[str, Any]]:
    """(billing_date, customer_id) of every non-test customer whose billing date falls in [first, last] and
    whose period starting then is not invoiced or skipped yet; plus, on `last`, customers with a live
    service and no customer_billing row (so they get their validation error). Date order, then id."""
    return conn.execute(
        """
        select d.day as billing_date, b.customer_id
          from (select g::date as day
                  from generate_series(%(first)s::date, %(last)s::date, interval '1 day') g) d
          join customer_billing b
            on least(b.billing_day,
                     extract(day from (date_trunc('month', d.day) + interval '1 month - 1 day'))::int)
               = extract(day from d.day)::int
          join customers c on c.id = b.customer_id and not c.is_test
         where not exists (select 1 from billing_cycles bc
                            where bc.customer_id = b.customer_id and bc.period_start = d.day
                              and bc.status <> 'open')
        union
        -- a recorded bridging period (a billing-day change) starts on a day that is no billing date
        select bc.period_start, bc.customer_id
          from billing_cycles bc
          join customers c on c.id = bc.customer_id and not c.is_test
         where bc.status = 'open' and bc.period_start between %(first)s and %(last)s
        union all
        select %(last)s::date, c.id
          from customers c
         where not c.is_test
           and not exists (select 1 from customer_billing b where b.customer_id = c.id)
           and exists (select 1 from customer_services s
                        where s.customer_id = c.id and s.status in ('active', 'suspended'))
         order by 1, 2
        """,
        {"first": first, "last": last},
    ).fetchall()


def lock_customer(conn: Connection, customer_id: UUID | str) -> None:
    """Take the billing run's per-customer lock (the customer row FOR NO KEY UPDATE) until the transaction
    ends. Every admin change to a customer's billable inputs (charges, prices, packages, suspensions,
    cancellations, billing settings) takes it before it writes: a change lands before the run reads the
    customer's facts or after its invoice is written, never between."""
    conn.execute("select 1 from customers where id = %s for no key update", (customer_id,))


def customers(conn: Connection, customer_ids: Ids, lock: bool) -> list[dict[str, Any]]:
    """Billing rows; with `lock`, the customer rows FOR NO KEY UPDATE: the run's per-customer mutex (a
    second run or a re-delivered chunk waits, then finds the period invoiced), and the billing rows too:
    the credit balance read is the one the invoice moves (a reversal taking credit waits for the run)."""
    if lock:
        conn.execute(
            "select 1 from customer_billing where customer_id = any(%s::uuid[]) order by customer_id"
            " for no key update",
            (_ids(customer_ids),),
        )
    return conn.execute(
        f"""
        select c.id as customer_id, b.billing_day, b.payment_terms_days, b.credit_balance
          from customers c left join customer_billing b on b.customer_id = c.id
         where c.id = any(%s::uuid[])
         order by c.id
        {"for no key update of c" if lock else ""}
        """,
        (_ids(customer_ids),),
    ).fetchall()


def recorded_periods(conn: Connection, customer_ids: Ids, period_start: date) -> list[dict[str, Any]]:
    """Per customer, the last period recorded before `period_start` (q_start, q_end) and the open
    (bridging) period recorded to start on it (p_end); customers with neither are left out."""
    return conn.execute(
        """
        select v.customer_id, q.period_start as q_start, q.period_end as q_end, q.days as q_days,
               o.period_end as p_end
          from unnest(%(ids)s::uuid[]) as v(customer_id)
          left join lateral (
                select period_start, period_end,
                       coalesce(days_in_period, period_end - period_start + 1) as days
                  from billing_cycles
                 where customer_id = v.customer_id and period_start < %(start)s and status <> 'open'
                 order by period_start desc limit 1
          ) q on true
          left join lateral (
                select period_end from billing_cycles
                 where customer_id = v.customer_id and period_start = %(start)s and status = 'open'
          ) o on true
         where q.period_start is not null or o.period_end is not null
        """,
        {"ids": _ids(customer_ids), "start": period_start},
    ).fetchall()


def periods_since(conn: Connection, customer_ids: list[UUID], since: date) -> list[dict[str, Any]]:
    """The periods recorded (billed) for these customers that end on or after `since`."""
    return conn.execute(
        """
        select customer_id, period_start, period_end,
               coalesce(days_in_period, period_end - period_start + 1) as days
          from billing_cycles
         where customer_id = any(%s::uuid[]) and period_end >= %s and status <> 'open'
        """,
        (uuid_array(customer_ids), since),
    ).fetchall()


def already_billed(conn: Connection, customer_ids: Ids, period_start: date) -> set[UUID]:
    """Customers whose period starting `period_start` has a non-open cycle or a recurring invoice."""
    rows = conn.execute(
        """
        select customer_id from billing_cycles
         where customer_id = any(%(ids)s::uuid[]) and period_start = %(start)s and status <> 'open'
        union
        select customer_id from customer_invoices
         where customer_id = any(%(ids)s::uuid[]) and period_start = %(start)s and kind = 'recurring'
        """,
        {"ids": _ids(customer_ids), "start": period_start},
    ).fetchall()
    return {row["customer_id"] for row in rows}


def services(conn: Connection, customer_ids: Ids, period_start: date) -> list[dict[str, Any]]:
    return conn.execute(
        """
        select id, customer_id, package_name, status, monthly_price, activation_date,
               cancellation_effective_date
          from customer_services
         where customer_id = any(%s::uuid[])
           and status <> 'pending'
           and (cancellation_effective_date is null or cancellation_effective_date >= %s)
        """,
        (_ids(customer_ids), period_start - LOOKBACK),
    ).fetchall()


def activations(conn: Connection, customer_ids: Ids, period_start: date) -> list[dict[str, Any]]:
    """The SAST day each service's activation was recorded, for activations recorded within the lookback
    (a backdated activation reaches periods invoiced before it was recorded)."""
    return conn.execute(
        """
        select service_id,
               max(coalesce((details->>'recorded_on')::date,
                            (created_at at time zone 'Africa/Johannesburg')::date)) as recorded_on
          from service_action_log
         where customer_id = any(%s::uuid[]) and action = 'activate' and created_at >= %s::date
         group by service_id
        """,
        (_ids(customer_ids), period_start - LOOKBACK),
    ).fetchall()


def suspensions(conn: Connection, customer_ids: Ids, period_start: date) -> list[dict[str, Any]]:
    return conn.execute(
        """
        select id, service_id, pauses_billing,
               (suspended_at at time zone 'Africa/Johannesburg')::date as start_day,
               (reactivated_at at time zone 'Africa/Johannesburg')::date as end_day
          from service_suspensions
         where customer_id = any(%s::uuid[])
           and (reactivated_at is null or reactivated_at >= %s::date)
        """,
        (_ids(customer_ids), period_start - LOOKBACK),
    ).fetchall()


def price_changes(conn: Connection, customer_ids: Ids, period_start: date) -> list[dict[str, Any]]:
    """The price_change audit rows (details: effective_date, old/new monthly_price) still relevant."""
    return conn.execute(
        """
        select id, service_id, (details->>'effective_date')::date as effective_date,
               (details->>'old_price')::numeric(12,2) as old_price,
               (details->>'new_price')::numeric(12,2) as new_price
          from service_action_log
         where customer_id = any(%s::uuid[]) and action = 'price_change'
           and (details->>'effective_date')::date >= %s
        """,
        (_ids(customer_ids), period_start - LOOKBACK),
    ).fetchall()


def lines_by_key(conn: Connection, keys: list[str]) -> list[dict[str, Any]]:
    """Existing lines with these keys (the previous period's charge lines, credits already given)."""
    return conn.execute(
        """
        select line_key, kind, period_start, period_end, source->>'monthly_price' as monthly_price,
               (source->>'days_in_period')::int as days_in_period
          from invoice_line_items
         where line_key = any(array(select json_array_elements_text(%s::json)))
        """,
        (dumps(keys),),
    ).fetchall()


def service_usage(conn: Connection, periods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per service (id, customer id, previous period Q as q_start/q_end): the cap and out-of-bundle price of
    the package in force in Q (from the price_change history), its usage over Q, and, when the invoice for
    Q assessed the period U before it (its usage totals name the service), U's usage now and the overage
    lines billed for U. One statement for the chunk;
    usage days by the one "manual wins" rule (usage/sql.py). Services that are uncapped, have no
    usage in Q and nothing to settle are left out."""
    if not periods:
        return []
    return conn.execute(
        f"""
        select v.service_id, p.data_cap_gb, p.out_of_bundle_price_per_gb as price_per_gb,
               coalesce(d.q_upload, 0) as q_upload_mb, coalesce(d.q_download, 0) as q_download_mb,
               coalesce(d.q_total, 0) as q_total_mb,
               a.assessed, a.u_start, a.u_end,
               coalesce(d.u_upload, 0) as u_upload_mb, coalesce(d.u_download, 0) as u_download_mb,
               coalesce(d.u_total, 0) as u_total_mb,
               (select coalesce(sum(l.amount), 0) from invoice_line_items l
                 where a.assessed is not null
                   and l.line_key = 'overage:' || v.service_id || ':' || a.u_start) as billed
          from json_to_recordset(%s::json) as v(service_id uuid, customer_id uuid, q_start date, q_end date)
          join customer_services s on s.id = v.service_id
          -- the package in force on Q's first day (a package change is effective-dated like a price
          -- change): the last change in force by then, else the one before the first change after it
          left join lateral (
                select coalesce(
                  (select (l.details->>'new_package_id')::uuid from service_action_log l
                    where l.service_id = s.id and l.action = 'price_change'
                      and (l.details->>'effective_date')::date <= v.q_start
                    order by (l.details->>'effective_date')::date desc, l.created_at desc limit 1),
                  (select (l.details->>'old_package_id')::uuid from service_action_log l
                    where l.service_id = s.id and l.action = 'price_change'
                      and (l.details->>'effective_date')::date > v.q_start
                    order by (l.details->>'effective_date')::date, l.created_at limit 1),
                  s.package_id) as package_id
          ) pk on true
          join service_packages p on p.id = pk.package_id
          -- limit 1 keeps this a probe of the (customer, period) index per row: flattened into a join, the
          -- planner hashed every recurring invoice of the book for each chunk (O(N) per chunk)
          left join lateral (
                select i.usage_totals -> v.service_id::text as assessed
                  from customer_invoices i
                 where i.customer_id = v.customer_id and i.period_start = v.q_start and i.kind = 'recurring'
                 limit 1
          ) qi on true
          left join lateral (
                select qi.assessed, (qi.assessed ->> 'period_start')::date as u_start,
                       (qi.assessed ->> 'period_end')::date as u_end
          ) a on true
          left join lateral (
                select sum(e.upload_mb) filter (where e.usage_date >= v.q_start) as q_upload,
                       sum(e.download_mb) filter (where e.usage_date >= v.q_start) as q_download,
                       sum(e.total_mb) filter (where e.usage_date >= v.q_start) as q_total,
                       sum(e.upload_mb) filter (where e.usage_date <= a.u_end) as u_upload,
                       sum(e.download_mb) filter (where e.usage_date <= a.u_end) as u_download,
                       sum(e.total_mb) filter (where e.usage_date <= a.u_end) as u_total
                  from ({effective_days_of("v.service_id", "coalesce(a.u_start, v.q_start)", "v.q_end")}) e
          ) d on true
         -- a service with no cap, no usage in the period and nothing to settle has nothing to show or bill
         where p.data_cap_gb is not null or d.q_total is not null or a.assessed is not null
        """,
        (dumps(periods),),
    ).fetchall()


def pending_charges(conn: Connection, customer_ids: Ids, invoice_date: date) -> list[dict[str, Any]]:
    return conn.execute(
        """
        select id, customer_id, kind, description, amount, due_date
          from customer_charges
         where customer_id = any(%s::uuid[]) and status = 'pending' and due_date <= %s
        """,
        (_ids(customer_ids), invoice_date),
    ).fetchall()


def vat_rate_on(conn: Connection, day: date) -> Decimal | None:
    row = conn.execute(
        "select rate from vat_rates where effective_from <= %s order by effective_from desc limit 1", (day,)
    ).fetchone()
    return None if row is None else Decimal(row["rate"])


# --- writes ------------------------------------------------------------------------------------------


def reserve_invoice_numbers(conn: Connection, year: int, count: int) -> list[str]:
    """`count` consecutive numbers of the year's gap-free counter, in this transaction."""
    row = conn.execute("select public.reserve_numbers('invoice', %s, %s) as last", (year, count)).fetchone()
    assert row is not None
    last = int(row["last"])
    return [f"INV-{year}-{value:05d}" for value in range(last - count + 1, last + 1)]


def open_cycles(conn: Connection, cycles: list[dict[str, Any]]) -> dict[UUID, UUID]:
    """Insert (or take over an open) billing_cycles row per customer and period, already `invoiced` with the
    invoice id it will get (the reference is checked at commit) or `skipped`; customer id -> cycle id of
    the rows written (a cycle no longer open is left alone and not returned)."""
    if not cycles:
        return {}
    rows = conn.execute(
        """
        insert into billing_cycles (id, customer_id, period_start, period_end, billing_date, status,
                                    invoice_id, days_in_period)
        select id, customer_id, period_start, period_end, period_start, status, invoice_id, days_in_period
          from json_to_recordset(%s::json)
               as v(id uuid, customer_id uuid, period_start date, period_end date, status text,
                    invoice_id uuid, days_in_period integer)
        on conflict (customer_id, period_start) do update
           set status = excluded.status, period_end = excluded.period_end, invoice_id = excluded.invoice_id,
               days_in_period = excluded.days_in_period
         where billing_cycles.status = 'open'
        returning id, customer_id
        """,
        (dumps(cycles),),
    ).fetchall()
    return {row["customer_id"]: row["id"] for row in rows}


def insert_invoices(conn: Connection, invoices: list[dict[str, Any]]) -> None:
    """One statement; the rows travel as one JSON document (much cheaper to send than a dozen arrays)."""
    conn.execute(
        """
        insert into customer_invoices (id, customer_id, invoice_number, kind, invoice_date, due_date,
                                       period_start, period_end, subtotal, vat_rate, vat_amount,
                                       total_amount, status, billing_cycle_id, usage_totals, credit_note_for)
        select id, customer_id, invoice_number, coalesce(kind, 'recurring'), invoice_date, due_date,
               period_start, period_end, subtotal, vat_rate, vat_amount, total_amount, 'issued',
               billing_cycle_id, usage_totals::jsonb, credit_note_for
          from json_to_recordset(%s::json)
               as v(id uuid, customer_id uuid, invoice_number text, invoice_date date, due_date date,
                    period_start date, period_end date, subtotal numeric, vat_rate numeric,
                    vat_amount numeric, total_amount numeric, billing_cycle_id uuid, usage_totals json,
                    kind text, credit_note_for uuid)
        """,
        (dumps(invoices),),
    )


def insert_lines(conn: Connection, lines: list[dict[str, Any]]) -> None:
    """One statement for every line of the chunk."""
    if not lines:
        return
    conn.execute(
        """
        insert into invoice_line_items (id, invoice_id, service_id, kind, description, quantity,
                                        unit_amount, amount, period_start, period_end, source, line_key)
        select id, invoice_id, service_id, kind, description, 1, amount, amount, period_start, period_end,
               source::jsonb, line_key
          from json_to_recordset(%s::json)
               as v(id uuid, invoice_id uuid, service_id uuid, kind text, description text, amount numeric,
                    period_start date, period_end date, source json, line_key text)
        """,
        (dumps(lines),),
    )


Check = Callable[[], None]


def mark_charges_invoiced(conn: Connection, charge_invoices: list[tuple[UUID, UUID]]) -> Check:
    """Every charge the invoices carry, pending when read, becomes invoiced: a write that matches fewer
    rows than were read (a charge cancelled behind the lock) fails the transaction, never an invoice
    carrying a cancelled charge."""
    if charge_invoices:
        cursor = conn.execute(
            """
            update customer_charges c set status = 'invoiced', invoice_id = v.invoice_id
              from unnest(%s::uuid[], %s::uuid[]) as v(charge_id, invoice_id)
             where c.id = v.charge_id and c.status = 'pending'
            """,
            [list(column) for column in zip(*charge_invoices, strict=True)],
        )
        return lambda: _all_matched(cursor.rowcount, len(charge_invoices), "customer_charges")
    return _nothing


def corrected_invoices(
    conn: Connection, keys: list[tuple[UUID, UUID | None, date | None, date | None]]
) -> list[dict[str, Any] | None]:
    """For each (customer, service, period) a credit line corrects: the latest issued invoice that supplied
    that service for that period (a line of it overlapping the period), or for a line without a service the
    customer's latest issued invoice; None when there is none. One statement for the chunk."""
    if not keys:
        return []
    rows = conn.execute(
        """
        select k.n, x.id, x.invoice_number
          from unnest(%s::uuid[], %s::uuid[], %s::date[], %s::date[]) with ordinality
               as k (customer_id, service_id, period_start, period_end, n)
          left join lateral (
            select i.id, i.invoice_number
              from customer_invoices i
             where i.customer_id = k.customer_id and i.kind <> 'credit_note'
               and i.status not in ('draft', 'void')
               and (k.service_id is null or exists (
                     select 1 from invoice_line_items l
                      where l.invoice_id = i.id and l.service_id = k.service_id and l.amount > 0
                        and l.period_start <= coalesce(k.period_end, l.period_start)
                        and l.period_end >= coalesce(k.period_start, l.period_end)))
             order by i.invoice_date desc, i.created_at desc, i.id desc
             limit 1
          ) x on true
         order by k.n
        """,
        [list(column) for column in zip(*keys, strict=True)],
    ).fetchall()
    return [{"id": r["id"], "invoice_number": r["invoice_number"]} if r["id"] else None for r in rows]


def reserve_credit_note_numbers(conn: Connection, year: int, count: int) -> list[str]:
    """`count` consecutive numbers of the year's gap-free credit-note counter (CRN-YYYY-NNNNN)."""
    row = conn.execute(
        "select public.reserve_numbers('credit_note', %s, %s) as last", (year, count)
    ).fetchone()
    assert row is not None
    last = int(row["last"])
    return [f"CRN-{year}-{value:05d}" for value in range(last - count + 1, last + 1)]


def _nothing() -> None:
    return None


def _all_matched(matched: int, read: int, table: str) -> None:
    if matched != read:
        raise Conflict(
            f"The billing run read {read} {table} rows to write and matched {matched}:"
            " they changed meanwhile."
        )


def record_problems(conn: Connection, problems: list[dict[str, Any]]) -> None:
    """One open validation error per customer and code (a re-run adds none)."""
    if problems:
        conn.execute(
            """
            insert into validation_errors (source, record_type, record_id, record_ref, error_code, message,
                                           suggested_fix, payload)
            select 'billing_run', 'customer', customer_id, customer_id::text, error_code, message,
                   suggested_fix, payload::jsonb
              from unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[])
                   as v(customer_id, error_code, message, suggested_fix, payload)
            on conflict (source, record_ref, error_code) where resolved_at is null do nothing
            """,
            _columns(problems, "customer_id error_code message suggested_fix payload"),
        )


def resolve_problems(conn: Connection, error_code: str) -> None:
    """Mark the billing run's open validation errors of this code resolved (a run records them again)."""
    conn.execute(
        """
        update validation_errors set resolved_at = now()
         where source = 'billing_run' and error_code = %s and resolved_at is null
        """,
        (error_code,),
    )


def billing_days(conn: Connection, customer_ids: list[UUID]) -> dict[UUID, int]:
    rows = conn.execute(
        "select customer_id, billing_day from customer_billing where customer_id = any(%s::uuid[])",
        (uuid_array(customer_ids),),
    ).fetchall()
    return {row["customer_id"]: row["billing_day"] for row in rows}


def last_completed_through(conn: Connection, job_name: str) -> date | None:
    """The last billing date a completed (not dry) run of the job covered."""
    row = conn.execute(
        """
        select max((details->>'billed_through')::date) as through
          from cron_execution_log
         where job_name = %s and parent_id is null and status = 'completed'
           and details ? 'billed_through' and not coalesce((details->>'dry_run')::boolean, false)
        """,
        (job_name,),
    ).fetchone()
    return None if row is None else row["through"]


def _columns(rows: list[dict[str, Any]], names: str) -> list[list[Any]]:
    return [[row[name] for row in rows] for name in names.split()]


def dumps(value: Any) -> str:
    """JSON for the database: Decimal, date and UUID as their text (never a float). pydantic-core's encoder
    (Rust) knows these types: ~6x faster than `json.dumps(default=str)`, which called back into Python for
    every UUID, date and amount of a chunk (~10% of a chunk's time)."""
    return to_json(value).decode()
