"""Benchmark: backfill 200,000 orders through the job's code path, next to the floor measured in the same run
(one INSERT … SELECT of 200,000 rows into a bare table). Run: .venv/bin/pytest tests/perf -m perf -s"""

from __future__ import annotations

import resource
import time
import tracemalloc

import pytest

from isp_billing.backfill import orders as order_backfill
from isp_billing.jobs import run_job

ORDERS = 200_000

# Every 10th order is the previous person ordering again (same email in capitals, phone in another format),
# every 50th has a malformed email; statuses cycle through the legacy families.
_ORDER_VALUES = """
    select 'ORD-' || lpad(g::text, 7, '0'),
           'First' || g, 'Last' || g,
           case when g %% 50 = 0 then 'broken-address-' || g
                when g %% 10 = 0 then upper('person' || (g - 1) || '@example.co.za')
                else 'person' || g || '@example.co.za' end,
           case when g %% 10 = 0 then '+27 8' || substr(lpad((g - 1)::text, 8, '0'), 1, 2) || ' '
                                    || substr(lpad((g - 1)::text, 8, '0'), 3)
                else '08' || lpad(g::text, 8, '0') end,
           (array['Fibre 25/25', 'Fibre 50/50', 'Fibre 100/100', 'LTE 100GB'])[1 + g %% 4],
           (array[499.00, 699.00, 899.00, 399.00])[1 + g %% 4]::numeric(12,2),
           (array['active', 'installed', 'pending', 'cancelled', 'active', 'suspended',
                  'installation_scheduled', 'installation_completed'])[1 + g %% 8],
           case when g %% 3 = 0 then date '2025-06-01' end,
           '{"street": "1 Main Road", "city": "Cape Town"}'::jsonb
      from generate_series(1, %s) as g
"""
_COLUMNS = (
    "order_number, first_name, last_name, email, phone, package_name, package_price, status,"
    " activation_date, installation_address"
)


@pytest.mark.perf
def test_backfill_of_200k_orders_against_the_insert_select_floor(conn):
    # Given 200,000 legacy orders and the packages they name
    for name, kind, price in (
        ("Fibre 25/25", "fibre", "499.00"),
        ("Fibre 50/50", "fibre", "699.00"),
        ("Fibre 100/100", "fibre", "899.00"),
        ("LTE 100GB", "lte", "399.00"),
    ):
        conn.execute(
            "insert into service_packages (name, service_type, speed_down_mbps, speed_up_mbps, monthly_price)"
            " values (%s, %s, 10, 10, %s)",
            (name, kind, price),
        )
    conn.execute(f"insert into consumer_orders ({_COLUMNS}) {_ORDER_VALUES}", (ORDERS,))
    conn.execute("vacuum analyze consumer_orders")

    # When the floor is measured: one INSERT … SELECT of the same 200,000 rows into a bare table
    conn.execute(
        "create table bare_orders (id uuid default gen_random_uuid(), order_number text, first_name text,"
        " last_name text, email text, phone text, package_name text, package_price numeric(12,2),"
        " status text, activation_date date, installation_address jsonb)"
    )
    started = time.perf_counter()
    conn.execute(f"insert into bare_orders ({_COLUMNS}) {_ORDER_VALUES}", (ORDERS,))
    floor = time.perf_counter() - started
    conn.execute("drop table bare_orders")

    # And the backfill runs through the job's code path
    tracemalloc.start()
    started = time.perf_counter()
    row = run_job(order_backfill.JOB_NAME, order_backfill.run, trigger="manual")
    elapsed = time.perf_counter() - started
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # Then every order has its outcome
    details = row["details"]
    print(
        f"\nbackfill of {ORDERS:,} orders: {elapsed:.2f}s ({ORDERS / elapsed:,.0f} orders/s),"
        f" {details['batches']} batches"
        f"\nfloor (INSERT … SELECT of {ORDERS:,} rows into a bare table): {floor:.2f}s"
        f"\nratio: {elapsed / floor:.1f}x the floor"
        f"\npeak memory: Python allocations {python_peak / 1024 / 1024:.1f} MiB (tracemalloc),"
        f" process max RSS {max_rss_mb:.0f} MiB"
        f"\noutcomes: linked {details['linked_by']}, services {details['services_created']},"
        f" errors {details['validation_errors']}"
    )
    invalid = ORDERS // 50
    assert details["validation_errors"] == {"invalid_email": invalid}
    assert details["orders"] == ORDERS
    repeat_orders = ORDERS // 10 - ORDERS // 50
    assert details["linked_by"] == {
        "matched_by_email": repeat_orders,
        "new_customer": ORDERS - invalid - repeat_orders,
    }
    counts = conn.execute(
        "select (select count(*) from customers) as customers,"
        " (select count(*) from customer_billing) as billing,"
        " (select count(*) from consumer_orders where customer_id is null) as unlinked"
    ).fetchone()
    assert counts["customers"] == counts["billing"] == details["customers_created"]
    assert counts["unlinked"] == invalid
