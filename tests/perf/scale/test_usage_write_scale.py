"""Scale benchmark (make perf-scale): the usage sync's write path for 3 days x USAGE_SCALE_SERVICES services
(default 1,000,000; 100,000 for a quick check), as the sync writes it: per chunk of the sync's services
(USAGE_SYNC_CHUNK_SIZE, 1,000 by default) one transaction through usage_ingest.write_usage (COPY into a
temporary table, one upsert, the cap alerts), next to the floor measured in the same run on the same rows:
one plain COPY of them as new rows into usage_history itself, its indexes and keys in force (target: the
write path at least 0.5 of the floor's throughput). Rows are generated chunk by chunk, never all in memory.

Printed: throughput and ratio, the per-chunk time of the first and the last 10% of chunks (the upsert's cost
must not grow with the table), the database size before and after, the process's peak memory (VmHWM; at most
256 MB), the statements per chunk."""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest

from isp_billing import db
from isp_billing.settings import get_settings
from isp_billing.usage import ingest as usage_ingest

SERVICES = int(os.environ.get("USAGE_SCALE_SERVICES", "1000000"))
DAYS = 3
FIRST_DAY = date(2026, 3, 1)
TARGET_RATIO = 0.5
PEAK_LIMIT_MIB = 256

Row = tuple[uuid.UUID, date, Decimal, Decimal]


def _seed(conn) -> None:
    """SERVICES / 2 customers with 2 services each; every other service on a capped (500 GB) package."""
    conn.execute(
        "insert into service_packages (id, name, service_type, monthly_price, data_cap_gb) values"
        " ('10000000-0000-4000-8000-000000000002', 'Fibre 50/50', 'fibre', 699.00, null),"
        " ('10000000-0000-4000-8000-000000000003', 'LTE 500 GB', 'lte', 399.00, 500)"
    )
    conn.execute(
        """
        insert into customers (account_number, first_name, last_name, email, customer_type)
        select 'CUS-2026-' || lpad(g::text, 7, '0'), 'Usage', 'Customer ' || g,
               'usage' || g || '@example.co.za', 'consumer'
          from generate_series(1, %s) g
        """,
        ((SERVICES + 1) // 2,),
    )
    conn.execute(
        """
        insert into customer_services (customer_id, package_id, package_name, service_type, status,
                                       monthly_price, activation_date)
        select c.id, (array['10000000-0000-4000-8000-000000000002',
                            '10000000-0000-4000-8000-000000000003'])[1 + k]::uuid,
               (array['Fibre 50/50', 'LTE 500 GB'])[1 + k], (array['fibre', 'lte'])[1 + k], 'active',
               (array[699.00, 399.00])[1 + k], date '2025-06-01'
          from customers c cross join generate_series(0, 1) k
        """
    )
    conn.execute("vacuum analyze")


def _chunks(conn, size: int) -> Iterator[list[tuple[uuid.UUID, uuid.UUID]]]:
    """(service, customer) pairs in chunks of `size`, in the order the sync plans them (by service id)."""
    pairs = [
        (row["id"], row["customer_id"])
        for row in conn.execute("select id, customer_id from customer_services order by id")
    ]
    for start in range(0, len(pairs), size):
        yield pairs[start : start + size]


def _rows(pairs: list[tuple[uuid.UUID, uuid.UUID]]) -> list[Row]:
    days = [FIRST_DAY + timedelta(days=n) for n in range(DAYS)]
    return [
        (service, day, Decimal(n % 997) + Decimal("0.125"), Decimal((n * 7) % 4093) + Decimal("0.5"))
        for n, (service, _) in enumerate(pairs)
        for day in days
    ]


def _database_bytes(conn) -> int:
    return conn.execute("select pg_database_size(current_database()) as n").fetchone()["n"]


def _peak_mib() -> float:
    return (
        next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024
    )


@pytest.mark.perf_scale
@pytest.mark.timeout(int(os.environ.get("PERF_SCALE_TIME_LIMIT_SECONDS", str(4 * 3600))))
def test_usage_write_path_for_three_days_of_a_scale_book_against_the_copy_floor(
    conn, clean_db, admin_database_url
):
    # Given the services (half of them capped), and the database's size
    _seed(conn)
    chunk_size = get_settings().usage_sync_chunk_size
    size_before = _database_bytes(conn)

    # When the floor is measured: one plain COPY of the same rows as new rows into usage_history
    with psycopg.connect(admin_database_url, autocommit=True) as floor_conn:
        started = time.perf_counter()
        with floor_conn.cursor().copy(
            "copy usage_history (customer_id, service_id, usage_date, upload_mb, download_mb, source)"
            " from stdin"
        ) as copy:
            for pairs in _chunks(conn, chunk_size):
                owners = dict(pairs)
                for service, day, up, down in _rows(pairs):
                    copy.write_row((owners[service], service, day, up, down, "interstellio"))
        floor_seconds = time.perf_counter() - started
        floor_conn.execute("truncate usage_history")
        floor_conn.execute("vacuum analyze usage_history")

    # And the write path, one transaction per chunk of the sync's services (statements counted)
    sent = [0]
    original = psycopg.Cursor.execute

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent[0] += 1
        return original(self, *args, **kwargs)

    per_chunk: list[float] = []
    statements: list[int] = []
    total = 0
    started = time.perf_counter()
    try:
        psycopg.Cursor.execute = counted  # type: ignore[method-assign]
        with db.batch_work():
            for pairs in _chunks(conn, chunk_size):
                rows = _rows(pairs)
                before, chunk_started = sent[0], time.perf_counter()
                with db.service_session() as session:
                    usage_ingest.write_usage(session, rows)
                per_chunk.append(time.perf_counter() - chunk_started)
                statements.append(sent[0] - before + 1)  # + the COPY, not a Cursor.execute
                total += len(rows)
    finally:
        psycopg.Cursor.execute = original  # type: ignore[method-assign]
    path_seconds = time.perf_counter() - started

    # Then every row is stored once, and the figures
    stored = conn.execute("select count(*) as n from usage_history").fetchone()["n"]
    size_after = _database_bytes(conn)
    tenth = max(1, len(per_chunk) // 10)
    first, last = statistics.mean(per_chunk[:tenth]), statistics.mean(per_chunk[-tenth:])
    floor_rate, path_rate = total / floor_seconds, total / path_seconds
    print(
        f"\nusage write path, {DAYS} days x {SERVICES:,} services = {total:,} rows in {len(per_chunk)}"
        f" chunks of {chunk_size} services: {path_rate:,.0f} rows/s ({path_seconds:.1f}s, generating"
        f" the rows included)"
        f"\nfloor, one COPY of the same rows as new rows into usage_history: {floor_rate:,.0f} rows/s"
        f" ({floor_seconds:.1f}s); ratio {path_rate / floor_rate:.2f} (target at least {TARGET_RATIO})"
        f"\nper chunk: first 10% {first:.3f}s, last 10% {last:.3f}s, last/first {last / first:.2f}x"
        f"\ndatabase size: {size_before / 2**20:,.0f} MiB before, {size_after / 2**20:,.0f} MiB after"
        f"\npeak memory of this process (VmHWM, the test's own included): {_peak_mib():.0f} MiB"
        f" (at most {PEAK_LIMIT_MIB} MB)"
        f"\nstatements per chunk: min {min(statements)}, max {max(statements)}"
    )
    assert stored == total == SERVICES * DAYS
