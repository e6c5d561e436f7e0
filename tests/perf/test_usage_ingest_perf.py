"""Benchmark: 1,000,000 usage rows through the sync's write path (usage_ingest.write_usage: COPY into a temp
table + one upsert per chunk, cap checks included), next to the floor measured in the same run (ADR 0150: a
plain COPY of the same rows as new rows into usage_history itself; the old floor, a COPY into an unindexed
table, printed as context); and the warm p50 of GET /api/customer/usage for a customer
with 3 services and 2 years of daily history next to one raw query of the same rows.
Run: .venv/bin/pytest tests/perf/test_usage_ingest_perf.py -m perf -s

Against the old floor, measured 2026-12-02 on the shared 2-core machine (other processes running; the
floor moved 1.7-2.8 s):
before (up to 20261202005100) ratio 0.10 and 0.11 (66k rows/s, 15.1 s); after the time-ordered ids
(20261203002000) and the per-statement service check (20261203002100) 0.12, 0.15, 0.16, 0.20 (60k-79k
rows/s, 12.6-16.7 s; floor 1.8-2.5 s); peak traced Python memory of one chunk's write 1 MiB, max RSS
394 MiB (the million rows built in memory before the path starts). The 0.5 target is not met: the upsert
itself (heap + three B-trees + speculative insertion, ~490 bytes of WAL a row) costs several times the
floor's whole per-row cost; see docs/performance.md. GET p50 3.6-17 ms in those
runs (2.2 ms before on a quieter machine) against a raw query of 0.06-0.08 ms: six round trips and the
web stack, unchanged."""

from __future__ import annotations

import json
import resource
import statistics
import time
import tracemalloc
import uuid
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest

from isp_billing import db
from isp_billing.clock import sast_today
from isp_billing.usage import ingest as usage_ingest
from isp_billing_cli.events import LambdaContext, api_gateway_event
from isp_billing_cli.template import function_by_id
from tests.factories import customer_with_token, insert_customer, insert_package, insert_service

SERVICES = int(__import__("os").environ.get("PERF_SERVICES", "1370"))
DAYS = 730  # 1,370 x 730 = 1,000,100 rows
SERVICES_PER_CHUNK = 100  # a chunk's services, here back-filling two years each
TARGET_RATIO = 0.5


def _rows(service_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, object, Decimal, Decimal]]:
    first = sast_today() - timedelta(days=DAYS - 1)
    days = [first + timedelta(days=n) for n in range(DAYS)]
    return [
        (sid, day, Decimal(n % 997) + Decimal("0.125"), Decimal(n % 4093) + Decimal("0.5"))
        for sid in service_ids
        for n, day in enumerate(days)
    ]


def copy_floor(admin_database_url: str, rows: list[tuple[uuid.UUID, object, Decimal, Decimal]]) -> float:
    """Seconds for one plain COPY of `rows` as new rows into usage_history (emptied before and after), with
    the customer of each service looked up before the clock starts."""
    with psycopg.connect(admin_database_url, autocommit=True) as floor_conn:
        owners = dict(floor_conn.execute("select id, customer_id from customer_services").fetchall())
        prepared = [(owners[sid], sid, day, up, down, "interstellio") for sid, day, up, down in rows]
        floor_conn.execute("truncate usage_history")
        started = time.perf_counter()
        with floor_conn.cursor().copy(
            "copy usage_history (customer_id, service_id, usage_date, upload_mb, download_mb, source)"
            " from stdin"
        ) as copy:
            for row in prepared:
                copy.write_row(row)
        elapsed = time.perf_counter() - started
        floor_conn.execute("truncate usage_history")
    return elapsed


def bare_copy_floor(admin_database_url: str, rows: list[tuple[uuid.UUID, object, Decimal, Decimal]]) -> float:
    """The old floor, kept as context: the same COPY into an unindexed table of its own."""
    with psycopg.connect(admin_database_url, autocommit=True) as floor_conn:
        floor_conn.execute(
            "create table if not exists perf_usage_floor (service_id uuid, usage_date date,"
            " upload_mb numeric(14,3), download_mb numeric(14,3)); truncate perf_usage_floor"
        )
        started = time.perf_counter()
        with floor_conn.cursor().copy(
            "copy perf_usage_floor (service_id, usage_date, upload_mb, download_mb) from stdin"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        elapsed = time.perf_counter() - started
        floor_conn.execute("drop table perf_usage_floor")
    return elapsed


@pytest.mark.perf
def test_one_million_usage_rows_against_the_copy_floor_and_the_customer_usage_p50(conn, admin_database_url):
    # Given 1,370 services (uncapped and capped packages) and two years of daily rows for each
    capped = insert_package(conn, data_cap_gb=500)
    customers = [insert_customer(conn) for _ in range(SERVICES // 10 + 1)]
    service_ids = [
        uuid.UUID(insert_service(conn, customers[n // 10], package_id=capped if n % 2 else None))
        for n in range(SERVICES)
    ]
    rows = _rows(service_ids)
    total = len(rows)

    # When the floor is measured: one plain COPY of the same rows, as new rows, into usage_history itself
    # (its indexes, keys and checks in force)
    floor_seconds = copy_floor(admin_database_url, rows)
    # And, as context, the old floor: the same COPY into an unindexed table of its own
    bare_seconds = bare_copy_floor(admin_database_url, rows)

    # And the job's write path: per chunk of services one transaction (COPY + upsert + cap alerts)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    per_chunk = SERVICES_PER_CHUNK * DAYS
    with db.batch_work():
        for start in range(0, total, per_chunk):
            with db.service_session() as session:
                usage_ingest.write_usage(session, rows[start : start + per_chunk])
    path_seconds = time.perf_counter() - started
    stored = conn.execute("select count(*) as n from usage_history").fetchone()["n"]
    assert stored == total
    # Peak Python memory of one chunk's write, traced in a pass of its own (tracing slows the timed one).
    conn.execute("truncate usage_history")
    tracemalloc.start()
    with db.service_session() as session:
        usage_ingest.write_usage(session, rows[:per_chunk])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # Then every row is stored once, and the path's rate is compared with the floor's
    floor_rate, path_rate = total / floor_seconds, total / path_seconds
    ratio = path_rate / floor_rate
    bare_rate = total / bare_seconds
    print(
        f"\nusage ingest: {total:,} rows; floor: COPY as new rows into usage_history {floor_rate:,.0f} rows/s"
        f" ({floor_seconds:.1f} s); write path {path_rate:,.0f} rows/s ({path_seconds:.1f} s); "
        f"ratio {ratio:.2f} (target {TARGET_RATIO}); context, the old floor (COPY into an unindexed table):"
        f" {bare_rate:,.0f} rows/s ({bare_seconds:.1f} s), ratio {path_rate / bare_rate:.2f}; "
        f"peak traced Python memory of one chunk's write {peak / 2**20:.0f} MiB; max RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (before the path "
        f"{rss_before / 1024:.0f} MiB, the rows built in memory)"
    )

    # Given a customer with 3 services and two years of daily history
    customer, token = customer_with_token(conn)
    own = [uuid.UUID(insert_service(conn, customer, package_id=capped)) for _ in range(3)]
    with db.service_session() as session:
        usage_ingest.write_usage(session, _rows(own))
    conn.execute("analyze usage_history")
    # When GET /api/customer/usage is called warm (the handler with a gateway event, as Lambda does), 50 times
    path = "/api/customer/usage"
    handler = function_by_id("CustomerUsageGetFunction").load_handler()
    headers = {"authorization": f"Bearer {token}"}
    context = LambdaContext("CustomerUsageGetFunction")
    handler(api_gateway_event("GET", path, path, None, headers), context)
    timings = []
    for _ in range(50):
        started = time.perf_counter()
        result = handler(api_gateway_event("GET", path, path, None, headers), context)
        timings.append(time.perf_counter() - started)
        assert result["statusCode"] == 200
    body = json.loads(result["body"])
    assert len(body["services"]) == 3
    # And one raw query of the same rows (the period's days of the customer), 50 times
    first = body["period_start"]
    raw = []
    for _ in range(50):
        started = time.perf_counter()
        conn.execute(
            "select service_id, usage_date, upload_mb, download_mb, total_mb from usage_history"
            " where customer_id = %s and usage_date >= %s",
            (customer, first),
        ).fetchall()
        raw.append(time.perf_counter() - started)
    p50, raw_p50 = statistics.median(timings) * 1000, statistics.median(raw) * 1000
    print(f"GET /api/customer/usage warm p50 {p50:.1f} ms; raw query of the same rows p50 {raw_p50:.2f} ms")
    assert ratio >= TARGET_RATIO, f"write path at {ratio:.2f} of the COPY floor"
