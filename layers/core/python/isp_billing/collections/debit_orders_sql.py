"""SQL for debit-order runs: which invoices are due for collection, claiming them, batch state.

Set-based throughout: a run selects and claims every collection in one statement, and a batch's lines
are failed or settled by batch reference, never a query per row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg.rows import tuple_row

from isp_billing.db import Connection

LIVE_COLLECTION = "kind = 'collection' and status in ('pending', 'submitted', 'successful')"

# The due selection's sorts (one collection per customer, the running total) hold 100,000 rows each; with
# the default 4 MB of work_mem they spill to disk (external merge). Transaction-local, so the pooler's next
# client never sees it; JIT off because compiling the plan costs more than it saves on a one-off run.
CLAIM_SETTINGS = "select set_config('work_mem', '64MB', true), set_config('jit', 'off', true)"
# Rows per chunk while the claim's result streams in: the client never holds the whole result.
STREAM_ROWS = 2000

# Invoices of non-test auto-pay customers whose primary method is an accepted mandate that is not blocked,
# still owing (amount_due), not being or already collected, due inside the window, whose mandated date
# (the debit day on or after the invoice date, or after the last debit the bank returned, before its paid
# line or after it, as a reversal carrying the bank's code: PASA counts both) is on or before
# the batch's action date. `problem` marks the ones that may not be debited at all.
_DUE = """
    with due as (
      select i.id as invoice_id, i.customer_id, i.invoice_number, i.amount_due, i.due_date,
             pm.id as payment_method_id, pm.mandate_amount, c.account_number,
             coalesce(prior.attempts, 0) + 1 as attempt_number,
             case when i.amount_due > pm.mandate_amount then 'above_mandate_amount'
                  when i.amount_due > %(item_limit)s then 'above_item_limit' end as problem
        from customer_invoices i
        join customers c on c.id = i.customer_id and not c.is_test
        join customer_billing b on b.customer_id = i.customer_id and b.auto_pay and b.debit_day is not null
        join customer_payment_methods pm
          on pm.customer_id = i.customer_id and pm.is_primary and pm.is_active
         and pm.method_type = 'debit_order' and pm.mandate_status = 'accepted'
        left join lateral (
          select count(*) as attempts,
                 max(t.action_date) filter (
                   where (t.status = 'failed' and t.failure_code ~ '^[0-9]+$')
                      or (t.status = 'reversed'
                          and exists (select 1 from payment_transactions r
                                       where r.original_transaction_id = t.id and r.kind = 'reversal'
                                         and r.failure_code ~ '^[0-9]+$'))
                 ) as last_returned
            from payment_transactions t
           where t.invoice_id = i.id and t.kind = 'collection'
        ) prior on true
       where i.status in ('issued', 'partially_paid', 'overdue')
         and i.kind <> 'credit_note'
         and i.amount_due > 0
         and i.due_date >= %(window_start)s
         and not exists (select 1 from mandate_collection_blocks k where k.payment_method_id = pm.id)
         and not exists (select 1 from payment_transactions live
                          where live.invoice_id = i.id and live.kind = 'collection'
                            and live.status in ('pending', 'submitted', 'successful'))
         and debit_date_on_or_after(greatest(i.invoice_date, prior.last_returned + 1), b.debit_day)
             <= %(action_date)s
    ),
    -- One collection per customer per batch (NetCash refuses a repeated account reference in a file; the
    -- customer's next invoice goes in the next run), oldest first, inside the daily limit.
    chosen as (
      select *, sum(amount_due) over (order by due_date, invoice_id) as running_total
        from (select d.*, row_number() over (partition by customer_id order by due_date, invoice_id) as nth
                from due d where problem is null) ranked
       where nth = 1
    )
"""


def _params(
    action_date: date, window_start: date, item_limit: Decimal, daily_limit: Decimal
) -> dict[str, Any]:
    return {
        "action_date": action_date,
        "window_start": window_start,
        "item_limit": item_limit,
        "daily_limit": daily_limit,
    }


def problems(
    conn: Connection, action_date: date, window_start: date, item_limit: Decimal, daily_limit: Decimal
) -> list[dict[str, Any]]:
    """Due invoices that may not be debited (above the mandate amount or the per-item limit)."""
    conn.execute(CLAIM_SETTINGS)
    return conn.execute(
        _DUE
        + """
        select invoice_id, customer_id, invoice_number, amount_due, mandate_amount, due_date, problem
          from due where problem is not null order by invoice_id
        """,
        _params(action_date, window_start, item_limit, daily_limit),
    ).fetchall()


def preview(
    conn: Connection, action_date: date, window_start: date, item_limit: Decimal, daily_limit: Decimal
) -> dict[str, Any]:
    """What a run would collect (dry run): counts and total, nothing written."""
    conn.execute(CLAIM_SETTINGS)
    row = conn.execute(
        _DUE
        + """
        select count(*) as collections, coalesce(sum(amount_due), 0) as total
          from chosen where running_total <= %(daily_limit)s
        """,
        _params(action_date, window_start, item_limit, daily_limit),
    ).fetchone()
    assert row is not None
    return row


@dataclass(frozen=True)
class Claim:
    """What one claim wrote: how many collections (each handed to `collect` as it was read) and their total,
    and the due invoices that may not be debited (dicts, the columns `problems` gives), found by the same
    single selection."""

    count: int
    total: Decimal
    problems: list[dict[str, Any]]


def claim(
    conn: Connection,
    *,
    batch_name: str,
    action_date: date,
    window_start: date,
    item_limit: Decimal,
    daily_limit: Decimal,
    collect: Callable[[str, str, Decimal], None],
) -> Claim:
    """Insert one `submitted` collection per chosen invoice, in the caller's transaction; the live-collection
    unique index skips an invoice another writer claimed first. One statement selects the due invoices once
    (the `due` CTE is materialised because both branches read it) and answers both the claimed collections
    and the problem invoices, so a 100,000-invoice run does not select twice. The result streams in chunks,
    unsorted (no order is owed to NetCash, and so the file is written while the server is still inserting):
    each collection goes to `collect(id, account_number, amount)` as it arrives, so neither libpq nor Python
    holds the 100,000 rows at once."""
    conn.execute(CLAIM_SETTINGS)
    cursor = conn.cursor(row_factory=tuple_row)
    count, total = 0, Decimal("0")
    problems: list[dict[str, Any]] = []
    rows = cursor.stream(
        _DUE
        + f"""
        , inserted as (
          insert into payment_transactions (customer_id, invoice_id, payment_method_id, amount, kind, status,
                                            provider, batch_reference, action_date, attempt_number)
          select customer_id, invoice_id, payment_method_id, amount_due, 'collection', 'submitted',
                 'netcash', %(batch_name)s, %(action_date)s, attempt_number
            from chosen where running_total <= %(daily_limit)s
          on conflict (invoice_id) where {LIVE_COLLECTION} do nothing
          returning id, customer_id, amount
        )
        -- customers by primary key, not a join back to `chosen`: the planner cannot estimate CTE rows and
        -- would nest-loop two 100,000-row CTE scans.
        select null as problem, inserted.id::text, c.account_number, inserted.amount,
               null::uuid as invoice_id, null::uuid as customer_id, null as invoice_number,
               null::numeric as amount_due, null::numeric as mandate_amount, null::date as due_date
          from inserted join customers c on c.id = inserted.customer_id
        union all
        select problem, null, null, null, invoice_id, customer_id, invoice_number, amount_due, mandate_amount,
               due_date
          from due where problem is not null
        """,
        {**_params(action_date, window_start, item_limit, daily_limit), "batch_name": batch_name},
        size=STREAM_ROWS,
    )
    for row in rows:
        if row[0] is None:
            collect(row[1], row[2], row[3])
            count += 1
            total += row[3]
        else:
            problems.append(dict(zip(_PROBLEM_COLUMNS, (*row[4:], row[0]), strict=True)))
    problems.sort(key=lambda row: (row["problem"], row["invoice_id"]))
    return Claim(count, total, problems)


_PROBLEM_COLUMNS = (
    "invoice_id",
    "customer_id",
    "invoice_number",
    "amount_due",
    "mandate_amount",
    "due_date",
    "problem",
)


def insert_batch(
    conn: Connection,
    *,
    batch_name: str,
    instruction: str,
    action_date: date,
    run_id: UUID | None,
    item_count: int,
    total: Decimal,
) -> UUID:
    row = conn.execute(
        """
        insert into debit_order_batches (batch_name, instruction, action_date, run_id, item_count,
                                         total_amount)
        values (%s, %s, %s, %s, %s, %s) returning id
        """,
        (batch_name, instruction, action_date, run_id, item_count, total),
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def open_batches(conn: Connection, exclude_run: UUID | None) -> list[dict[str, Any]]:
    """Batches a step is still owed to (oldest first), except the ones this run is handling itself."""
    return conn.execute(
        """
        select * from debit_order_batches
         where status in ('uploading', 'unknown', 'uploaded', 'loaded')
           and run_id is distinct from %s
         order by created_at
        """,
        (exclude_run,),
    ).fetchall()


def batch_collections(conn: Connection, batch_name: str) -> list[dict[str, Any]]:
    return conn.execute(
        """
        select t.id, c.account_number, t.amount
          from payment_transactions t join customers c on c.id = t.customer_id
         where t.batch_reference = %s and t.provider = 'netcash' and t.kind = 'collection'
         order by t.id
        """,
        (batch_name,),
    ).fetchall()


def set_batch(conn: Connection, batch_id: UUID, expected: tuple[str, ...], **values: Any) -> bool:
    """Move a batch forward only from a status in `expected` (a concurrent step cannot move it twice)."""
    columns = ", ".join(f"{name} = %({name})s" for name in values)
    row = conn.execute(
        f"update debit_order_batches set {columns}"
        " where id = %(id)s and status = any(%(expected)s) returning id",
        {**values, "id": batch_id, "expected": list(expected)},
    ).fetchone()
    return row is not None


def fail_collections(
    conn: Connection,
    batch_name: str,
    code: str,
    reasons: dict[str, str] | None,
    default_reason: str,
) -> int:
    """Fail the batch's still-submitted collections: those of the account references in `reasons` (each with
    its own reason), or every one when `reasons` is None."""
    references = list(reasons) if reasons is not None else None
    messages = [reasons[ref] for ref in references] if reasons is not None and references else []
    rows = conn.execute(
        """
        update payment_transactions t
           set status = 'failed', failure_code = %(code)s,
               failure_reason = left(coalesce(r.message, %(default)s), 500), processed_at = now()
          from customers c
          left join unnest(%(refs)s::text[], %(messages)s::text[]) as r(ref, message)
            on r.ref = c.account_number
         where c.id = t.customer_id and t.batch_reference = %(batch)s and t.status = 'submitted'
           and t.kind = 'collection' and (%(all)s or r.ref is not null)
        returning t.id
        """,
        {
            "code": code,
            "default": default_reason,
            "refs": references or [],
            "messages": messages,
            "batch": batch_name,
            "all": reasons is None,
        },
    ).fetchall()
    return len(rows)


def record_problems(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """One open validation error per invoice and problem (a re-run adds none)."""
    if not rows:
        return 0
    messages = {
        "above_mandate_amount": "The invoice is above the mandate amount; it is not debited.",
        "above_item_limit": "The invoice is above the per-item debit limit; it is not debited.",
    }
    fixes = {
        "above_mandate_amount": "Ask the customer to pay by EFT or to sign a mandate for a higher amount.",
        "above_item_limit": "Collect by EFT, or raise the NetCash per-item limit and the setting.",
    }
    inserted = conn.execute(
        """
        insert into validation_errors (source, record_type, record_id, record_ref, error_code, message,
                                       suggested_fix, payload)
        select 'debit_orders', 'invoice', v.invoice_id, v.invoice_id::text, v.code, v.message, v.fix,
               jsonb_build_object('amount_due', v.amount_due::text, 'mandate_amount', v.mandate_amount::text)
          from unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::numeric[], %s::numeric[])
               as v(invoice_id, code, message, fix, amount_due, mandate_amount)
        on conflict (source, record_ref, error_code) where resolved_at is null do nothing
        returning id
        """,
        (
            [r["invoice_id"] for r in rows],
            [r["problem"] for r in rows],
            [messages[r["problem"]] for r in rows],
            [fixes[r["problem"]] for r in rows],
            [r["amount_due"] for r in rows],
            [r["mandate_amount"] for r in rows],
        ),
    ).fetchall()
    return len(inserted)


def declared_holidays(conn: Connection, start: date, end: date) -> list[date]:
    rows = conn.execute(
        "select holiday_date from declared_public_holidays where holiday_date between %s and %s",
        (start, end),
    ).fetchall()
    return [row["holiday_date"] for row in rows]


def get_batch(conn: Connection, batch_id: UUID) -> dict[str, Any]:
    row = conn.execute("select * from debit_order_batches where id = %s", (batch_id,)).fetchone()
    assert row is not None
    return row


def failed_count(conn: Connection, batch_name: str) -> int:
    row = conn.execute(
        "select count(*) as n from payment_transactions where batch_reference = %s and status = 'failed'",
        (batch_name,),
    ).fetchone()
    return int(row["n"]) if row else 0
