"""Benchmark: the billing run for 100,000 customers with 1-3 services each, through the job's own chunk code
path (GenerateInvoicesFunction invoked in a process of its own, chunks inline), next to the schema floor
measured in the same run (ADR 0150): the same cycle, invoice and line rows written with one INSERT … SELECT
per table per chunk of 1,000 customers into the real tables, every key, trigger, guard and index in force.
Target: within 1.5x; where missed, a cProfile of one chunk is printed. The old floor (one INSERT … SELECT
into bare tables; the 3x target of ADR 0038) is printed as context.
Run: make perf, or .venv/bin/pytest tests/perf/test_billing_run_perf.py -m perf -s
Figures: docs/performance.md."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import pytest

CUSTOMERS = int(os.environ.get("BILLING_PERF_CUSTOMERS", "100000"))
CHUNK_SIZE = 1000
RESERVED_CONCURRENCY = 10  # template.yaml: GenerateInvoicesFunction ReservedConcurrentExecutions
RUN_DATE = "2026-03-05"
TARGET_RATIO = 1.5  # the chunk path within 1.5x the schema floor (printed; see docs/performance.md)

# The job in a process of its own; the second chunk (the first once warm) is also profiled with cProfile
# (its time is part of the run's; the profiler adds to it), the top of the profile printed by the test.
_JOB = """
import cProfile, io, json, pstats, resource, sys, time
from isp_billing.jobs import fanout
from isp_billing_cli.events import LambdaContext
from isp_billing_cli.template import function_by_id
execute_chunk, calls, profile = fanout._execute_chunk, [], io.StringIO()
def profiled(run, items, process_chunk):
    calls.append(1)
    if len(calls) != 2:
        return execute_chunk(run, items, process_chunk)
    profiler = cProfile.Profile()
    outcome = profiler.runcall(execute_chunk, run, items, process_chunk)
    pstats.Stats(profiler, stream=profile).sort_stats("tottime").print_stats(18)
    return outcome
fanout._execute_chunk = profiled
handler = function_by_id("GenerateInvoicesFunction").load_handler()
started = time.perf_counter()
row = handler({"run_date": sys.argv[1]}, LambdaContext("GenerateInvoicesFunction"))
elapsed = time.perf_counter() - started
print(json.dumps({"elapsed": elapsed, "status": row["status"], "processed": row["records_processed"],
                  "chunks": row["details"]["chunks"]["total"], "profile": profile.getvalue(),
                  "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _seed(conn) -> int:
    """Customers billed on the 5th; customer g has 1 + g % 3 services (699 / 499 / 899), some mid-period
    activations (pro-rata lines), every 20th a R50 credit balance. Returns the number of services."""
    conn.execute(
        "insert into service_packages (id, name, service_type, monthly_price)"
        " values ('10000000-0000-4000-8000-000000000002', 'Fibre 50/50', 'fibre', 699.00)"
    )
    conn.execute(
        """
        insert into customers (account_number, first_name, last_name, email, customer_type)
        select 'CUS-2026-' || lpad(g::text, 6, '0'), 'Perf', 'Customer ' || g,
               'perf' || g || '@example.co.za', 'consumer'
          from generate_series(1, %s) g
        """,
        (CUSTOMERS,),
    )
    conn.execute("update customer_billing set billing_day = 5")
    # R50 of credit on account for a tenth of the book (a ledger opening balance each), applied by the run
    conn.execute(
        "insert into ledger_entries (customer_id, kind, amount, note)"
        " select customer_id, 'opening_balance', 50.00, 'perf' from customer_billing"
        " where right(customer_id::text, 1) = '0'"
    )
    conn.execute(
        "select public.ledger_refresh('{}', array(select customer_id from customer_billing), current_date)"
    )
    services = conn.execute(
        """
        insert into customer_services (customer_id, package_id, package_name, service_type, status,
                                       monthly_price, activation_date)
        select c.id, '10000000-0000-4000-8000-000000000002', 'Fibre 50/50', 'fibre', 'active',
               (array[699.00, 499.00, 899.00])[1 + k.k],
               case when (c.n + k.k) % 7 = 0 then date '2026-02-20' else date '2025-06-01' end
          from (select id, row_number() over (order by id) as n from customers) c
          cross join lateral generate_series(0, (c.n % 3)::int) k(k)
        """
    ).rowcount
    conn.execute("vacuum analyze")
    return services


def schema_floor(conn, chunk_size: int = CHUNK_SIZE) -> tuple[float, list[float]]:
    """The schema floor: the run's own cycle, invoice and line rows (same counts, same amounts), prepared in
    temporary tables as new rows one month later (new ids; invoice numbers left to the numbering trigger),
    then written with one INSERT … SELECT per table per chunk of `chunk_size` customers into the real tables,
    every key, trigger, guard and index in force, one transaction per chunk. Returns the total and the
    per-chunk seconds. Everything the job adds on top of this (reading the facts, the rules in Python, the
    locks, the number reservation, the outbox and PDF requests) is what the ratio measures."""
    conn.execute(
        """
        create temp table floor_invoices as
        select gen_random_uuid() as id, i.id as old_id, i.customer_id, gen_random_uuid() as cycle_id,
               ((dense_rank() over (order by i.customer_id)) - 1) / %s as chunk_no,
               (i.invoice_date + interval '1 month')::date as invoice_date,
               (i.due_date + interval '1 month')::date as due_date,
               (i.period_start + interval '1 month')::date as period_start,
               (i.period_end + interval '1 month')::date as period_end,
               i.subtotal, i.vat_rate, i.vat_amount, i.total_amount, i.usage_totals
          from customer_invoices i
         where i.kind = 'recurring'
        """,
        (chunk_size,),
    )
    conn.execute(
        """
        create index on floor_invoices (chunk_no);
        create temp table floor_lines as
        select gen_random_uuid() as id, f.id as invoice_id, f.chunk_no, l.service_id, l.kind, l.description,
               l.quantity, l.unit_amount, l.amount,
               (l.period_start + interval '1 month')::date as period_start,
               (l.period_end + interval '1 month')::date as period_end, l.source,
               l.line_key || ':+1 month' as line_key
          from invoice_line_items l join floor_invoices f on f.old_id = l.invoice_id;
        create index on floor_lines (chunk_no);
        analyze floor_invoices; analyze floor_lines
        """
    )
    chunks = conn.execute("select coalesce(max(chunk_no) + 1, 0) as n from floor_invoices").fetchone()["n"]
    per_chunk = []
    started = time.perf_counter()
    for chunk_no in range(chunks):
        chunk_started = time.perf_counter()
        with conn.transaction():
            conn.execute(
                "insert into billing_cycles (id, customer_id, period_start, period_end, billing_date, status,"
                " invoice_id)"
                " select cycle_id, customer_id, period_start, period_end, period_start, 'invoiced', id"
                " from floor_invoices where chunk_no = %s",
                (chunk_no,),
            )
            conn.execute(
                "insert into customer_invoices (id, customer_id, invoice_number, kind, invoice_date,"
                " due_date, period_start, period_end, subtotal, vat_rate, vat_amount, total_amount, status,"
                " billing_cycle_id, usage_totals)"
                " select id, customer_id, null, 'recurring', invoice_date, due_date, period_start,"
                " period_end, subtotal, vat_rate, vat_amount, total_amount, 'issued', cycle_id, usage_totals"
                " from floor_invoices where chunk_no = %s",
                (chunk_no,),
            )
            conn.execute(
                "insert into invoice_line_items (id, invoice_id, service_id, kind, description, quantity,"
                " unit_amount, amount, period_start, period_end, source, line_key)"
                " select id, invoice_id, service_id, kind, description, quantity, unit_amount, amount,"
                " period_start, period_end, source, line_key from floor_lines where chunk_no = %s",
                (chunk_no,),
            )
        per_chunk.append(time.perf_counter() - chunk_started)
    elapsed = time.perf_counter() - started
    conn.execute("drop table floor_invoices; drop table floor_lines")
    return elapsed, per_chunk


def bare_floor(conn, invoices: int, lines: int) -> float:
    """The old floor, kept as context: one INSERT … SELECT writing `invoices` invoice rows and `lines` line
    rows into bare tables."""
    conn.execute(
        "create table bare_invoices (id uuid, customer_id uuid, invoice_number text, invoice_date date,"
        " due_date date, period_start date, period_end date, subtotal numeric(12,2), vat_rate numeric(5,2),"
        " vat_amount numeric(12,2), total_amount numeric(12,2));"
        " create table bare_lines (invoice_id uuid, service_id uuid, kind text, description text,"
        " amount numeric(12,2), period_start date, period_end date, source jsonb, line_key text)"
    )
    started = time.perf_counter()
    conn.execute(
        """
        with inv as (
          insert into bare_invoices
          select gen_random_uuid(), gen_random_uuid(), 'INV-2026-' || lpad(g::text, 6, '0'),
                 date '2026-03-05',
                 date '2026-03-12', date '2026-03-05', date '2026-04-04', 607.83, 15.00, 91.17, 699.00
            from generate_series(1, %(invoices)s) g
          returning id
        )
        insert into bare_lines
        select (select id from inv limit 1), gen_random_uuid(), 'recurring',
               'Fibre 50/50, 05 Mar 2026 to 04 Apr 2026',
               699.00, date '2026-03-05', date '2026-04-04',
               '{"rule": "recurring", "monthly_price": "699.00", "days_in_period": 31}'::jsonb, 'charge:' || g
          from generate_series(1, %(lines)s) g
        """,
        {"invoices": invoices, "lines": lines},
    )
    elapsed = time.perf_counter() - started
    conn.execute("drop table bare_invoices; drop table bare_lines")
    return elapsed


@pytest.mark.perf
@pytest.mark.timeout(3600)
def test_billing_run_for_100k_customers_against_the_insert_select_floor(conn, clean_db):
    # Given 100,000 customers billed on the 5th with 1-3 services each
    services = _seed(conn)

    # When the job bills 5 March in a process of its own (chunks of 1,000, inline: the chunk code path)
    env = {
        **os.environ,
        "DATABASE_URL": clean_db,
        "JOB_CHUNK_SIZE": str(CHUNK_SIZE),
        "JOB_CHUNK_QUEUE_URL": "",
    }
    process = subprocess.run(
        [sys.executable, "-c", _JOB, RUN_DATE], env=env, capture_output=True, text=True, timeout=3600
    )
    assert process.returncode == 0, process.stderr[-3000:]
    result = json.loads(process.stdout.strip().splitlines()[-1])
    counts = conn.execute(
        "select (select count(*) from customer_invoices) as invoices,"
        " (select count(*) from invoice_line_items) as lines"
    ).fetchone()

    # And the schema floor writes the same rows again (a month later) into the real tables, chunk by chunk
    floor, _ = schema_floor(conn)
    # And the old floor writes the same number of invoice and line rows into bare tables (context only)
    bare = bare_floor(conn, counts["invoices"], counts["lines"])

    # Then every customer has one invoice, and the figures
    per_chunk = result["elapsed"] / result["chunks"]
    million_chunks = 1_000_000 / CHUNK_SIZE
    extrapolated = million_chunks * per_chunk / RESERVED_CONCURRENCY
    peak_mib = result["max_rss_kib"] / 1024
    print(
        f"\nbilling run for {CUSTOMERS:,} customers ({services:,} services): {result['elapsed']:.2f}s,"
        f" {counts['invoices']:,} invoices, {counts['lines']:,} lines, {result['chunks']} chunks"
        f" ({per_chunk:.3f}s per chunk of {CHUNK_SIZE})"
        f"\nschema floor (the same cycle, invoice and line rows, one INSERT … SELECT per table per chunk of"
        f" {CHUNK_SIZE} customers into the real tables, one transaction per chunk): {floor:.2f}s"
        f"\nratio: {result['elapsed'] / floor:.2f}x the schema floor (target {TARGET_RATIO}x)"
        f"\ncontext, the old bare-table floor (one INSERT … SELECT into unindexed tables): {bare:.2f}s,"
        f" ratio {result['elapsed'] / bare:.2f}x"
        f"\npeak memory of the job process: max RSS {peak_mib:.0f} MiB"
        f"\n1,000,000 customers: {million_chunks:.0f} chunks x {per_chunk:.3f}s / {RESERVED_CONCURRENCY}"
        f" concurrent = {extrapolated / 60:.1f} min"
        f" (if the database keeps up with {RESERVED_CONCURRENCY} chunks at once)"
    )
    if result["elapsed"] / floor > TARGET_RATIO:
        print(f"where the rest goes, cProfile of one chunk (by own time):\n{result['profile']}")
    assert result["status"] == "completed" and result["processed"] == CUSTOMERS
    assert counts["invoices"] == CUSTOMERS
    assert peak_mib <= 256
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 <= 256
