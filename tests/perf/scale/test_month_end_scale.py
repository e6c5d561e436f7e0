"""Scale benchmark (make perf-scale; not in the default run, not in `make perf`, not in .ci/run): a book of
MONTH_END_SCALE_CUSTOMERS customers (default 1,000,000; 100,000 for a quick check) with 1-3 services each and
a realistic mix (10% capped with usage, 5% with a once-off charge, 2% suspended, 1% cancelled in the period,
billing days spread over 1-28), billed for a whole month: one GenerateInvoicesFunction run per billing day,
each fanning out its chunks of 1,000 to an SQS queue (moto); the fan-out's own messages are received from it
(and deleted, as Lambda's poller does on success) and handed, one message per SQS event (BatchSize 1, as the
template has it), to 2 worker processes that take the next message as soon as they are free.

Printed: the total wall time; the per-chunk time of the first and the last 10% of chunks (target: the last
within 1.25x the first); the database size before and after; each worker's peak memory (VmHWM; at most
256 MB); the statements a chunk sends (constant, not per customer); the schema floor of the same rows and
the ratio; and the projection for the template's reserved concurrency (10) from the measured per-chunk time
and the database's measured throughput with 2 workers (which one limits).
Run: make perf-scale (on the machine's PostgreSQL, in a database of its own that is dropped afterwards)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import statistics
import time
from typing import Any

import boto3
import pytest

from tests.chunk_queue import REGION, fake_aws_credentials, queue_arn
from tests.environment import settings_environment
from tests.perf.test_billing_run_perf import schema_floor

CUSTOMERS = int(os.environ.get("MONTH_END_SCALE_CUSTOMERS", "1000000"))
WORKERS = 2
CHUNK_SIZE = int(os.environ.get("MONTH_END_SCALE_CHUNK_SIZE", "1000"))  # smaller only to try it out
RESERVED_CONCURRENCY = 10  # template.yaml: GenerateInvoicesFunction ReservedConcurrentExecutions
MONTH = "2026-03"
TARGET_GROWTH = 1.25
TARGET_MINUTES = 15
PEAK_LIMIT_MIB = 256
# A run cut short by this limit still drops its database (the fixtures' teardown runs); workers are daemons.
TIME_LIMIT = int(os.environ.get("PERF_SCALE_TIME_LIMIT_SECONDS", str(4 * 3600)))


def _seed(conn) -> dict[str, int]:
    """The book, set-based. Customer n: billing day 1 + n % 28; 1 + n % 3 services; n % 10 = 0 capped
    (500 GB) with a daily usage row for the 7 days before its billing day; n % 20 = 1 a pending R350
    installation charge; n % 50 = 2 its services suspended; n % 100 = 3 its services cancelled in the
    period."""
    conn.execute(
        "insert into service_packages (id, name, service_type, monthly_price, data_cap_gb) values"
        " ('10000000-0000-4000-8000-000000000002', 'Fibre 50/50', 'fibre', 699.00, null),"
        " ('10000000-0000-4000-8000-000000000003', 'LTE 500 GB', 'lte', 399.00, 500)"
    )
    conn.execute(
        """
        insert into customers (account_number, first_name, last_name, email, customer_type)
        select 'CUS-2026-' || lpad(g::text, 7, '0'), 'Scale', 'Customer ' || g,
               'scale' || g || '@example.co.za', 'consumer'
          from generate_series(1, %s) g
        """,
        (CUSTOMERS,),
    )
    conn.execute(
        "create temp table book as select id, row_number() over (order by id) as n from customers;"
        " create index on book (id); analyze book"
    )
    conn.execute(
        "update customer_billing b set billing_day = 1 + k.n % 28 from book k where k.id = b.customer_id"
    )
    services = conn.execute(
        """
        insert into customer_services (customer_id, package_id, package_name, service_type, status,
                                       monthly_price, activation_date, cancellation_date,
                                       cancellation_effective_date)
        select c.id,
               case when c.n % 10 = 0 then '10000000-0000-4000-8000-000000000003'::uuid
                    else '10000000-0000-4000-8000-000000000002'::uuid end,
               case when c.n % 10 = 0 then 'LTE 500 GB' else 'Fibre 50/50' end,
               case when c.n % 10 = 0 then 'lte' else 'fibre' end,
               case when c.n % 50 = 2 then 'suspended' when c.n % 100 = 3 then 'cancelled' else 'active' end,
               case when c.n % 10 = 0 then 399.00 else (array[699.00, 499.00, 899.00])[1 + k.k] end,
               date '2025-06-01',
               case when c.n % 100 = 3 then date '2026-03-01' + (c.n % 28)::int + 10 end,
               case when c.n % 100 = 3 then date '2026-03-01' + (c.n % 28)::int + 10 end
          from book c cross join lateral generate_series(0, (c.n % 3)::int) k(k)
        """
    ).rowcount
    charges = conn.execute(
        "insert into customer_charges (customer_id, kind, description, amount, due_date)"
        " select id, 'installation', 'Fibre installation', 350.00, date '2026-03-01'"
        " from book where n % 20 = 1"
    ).rowcount
    usage = conn.execute(
        """
        insert into usage_history (customer_id, service_id, usage_date, upload_mb, download_mb, source)
        select s.customer_id, s.id, date '2026-03-01' + (k.n % 28)::int - d, 1024.5, 20480.25, 'interstellio'
          from customer_services s join book k on k.id = s.customer_id
          cross join generate_series(1, 7) d
         where k.n % 10 = 0
        """
    ).rowcount
    conn.execute("drop table book")
    conn.execute("vacuum analyze")
    return {"services": services, "charges": charges, "usage_rows": usage}


def _counting_statements() -> list[int]:
    """Patch psycopg's cursors in this (worker) process to count the statements they send."""
    import psycopg

    counter = [0]
    for name in ("execute", "executemany", "copy"):
        original = getattr(psycopg.Cursor, name)

        def counted(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            counter[0] += 1
            return _original(self, *args, **kwargs)

        setattr(psycopg.Cursor, name, counted)
    return counter


def _worker(inbox: Any, outbox: Any, environment: dict[str, str]) -> None:
    """One warm Lambda container: the next message as soon as it is free, one SQS event per message."""
    os.environ.update(environment)
    from isp_billing_cli.events import LambdaContext
    from isp_billing_cli.template import function_by_id
    from tests.events import sqs_event_from_messages

    statements = _counting_statements()
    handler = function_by_id("GenerateInvoicesFunction").load_handler()
    context = LambdaContext("GenerateInvoicesFunction")
    while (item := inbox.get()) is not None:
        message, arn = item
        before, started = statements[0], time.perf_counter()
        answer = handler(sqs_event_from_messages([message], arn), context)
        outbox.put(
            ("chunk", time.perf_counter() - started, statements[0] - before, answer["batchItemFailures"])
        )
    with open("/proc/self/status") as status:
        peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    outbox.put(("peak", peak_kib / 1024, 0, []))


def _database_bytes(conn) -> int:
    return conn.execute("select pg_database_size(current_database()) as n").fetchone()["n"]


@pytest.mark.perf_scale
@pytest.mark.timeout(TIME_LIMIT)
def test_month_end_of_a_scale_book_through_sqs_chunks_on_two_workers(conn, clean_db, monkeypatch):
    # Given the book, and its size on disk
    seeded = _seed(conn)
    size_before = _database_bytes(conn)

    # And a chunk queue (moto) the fan-out sends to, and two warm workers
    fake_aws_credentials(monkeypatch)
    logging.getLogger("isp-billing").setLevel(logging.WARNING)  # a line per run and chunk otherwise
    from moto import mock_aws

    from isp_billing_cli.events import LambdaContext
    from isp_billing_cli.template import function_by_id

    spawn = multiprocessing.get_context("spawn")
    inbox, outbox = spawn.Queue(), spawn.Queue()
    environment = {
        "DATABASE_URL": clean_db,
        "JOB_CHUNK_SIZE": str(CHUNK_SIZE),
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    workers = [
        spawn.Process(target=_worker, args=(inbox, outbox, environment), daemon=True) for _ in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    chunk_seconds: list[float] = []
    chunk_statements: list[int] = []
    failures: list[Any] = []
    peaks: list[float] = []
    try:
        with mock_aws():
            sqs = boto3.client("sqs", region_name=REGION)
            url = sqs.create_queue(
                QueueName="generate-invoices-chunks", Attributes={"VisibilityTimeout": "5400"}
            )["QueueUrl"]
            arn = queue_arn(sqs, url)
            environment_for_parent = {"JOB_CHUNK_QUEUE_URL": url, "JOB_CHUNK_SIZE": str(CHUNK_SIZE)}
            with settings_environment(environment_for_parent):
                handler = function_by_id("GenerateInvoicesFunction").load_handler()
                # When every billing day of the month is run: the fan-out queues its chunks, the workers
                # take them
                started = time.perf_counter()
                for day in range(1, 29):
                    run = handler(
                        {"run_date": f"{MONTH}-{day:02d}"}, LambdaContext("GenerateInvoicesFunction")
                    )
                    queued = 0
                    while messages := sqs.receive_message(
                        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
                    ).get("Messages", []):
                        for message in messages:
                            inbox.put((message, arn))
                            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                            queued += 1
                    assert run["status"] in ("running", "completed"), run
                    for _ in range(queued):
                        _, seconds, sent, failed = outbox.get(timeout=3600)
                        chunk_seconds.append(seconds)
                        chunk_statements.append(sent)
                        failures.extend(failed)
                wall = time.perf_counter() - started
    finally:
        for _ in workers:
            inbox.put(None)
        for _ in workers:
            kind, peak, _, _ = outbox.get(timeout=600)
            if kind == "peak":
                peaks.append(peak)
        for worker in workers:
            worker.join(timeout=60)

    # Then every customer with something to bill has one invoice, the runs completed, and the figures
    size_after = _database_bytes(conn)
    counts = conn.execute(
        "select (select count(*) from customer_invoices) as invoices,"
        " (select count(*) from invoice_line_items) as lines,"
        " (select count(*) from cron_execution_log where job_name = 'generate-invoices'"
        " and parent_id is null and status = 'completed') as runs"
    ).fetchone()
    floor, floor_chunks = schema_floor(conn, CHUNK_SIZE)
    tenth = max(1, len(chunk_seconds) // 10)
    first, last = statistics.mean(chunk_seconds[:tenth]), statistics.mean(chunk_seconds[-tenth:])
    per_chunk = statistics.mean(chunk_seconds)
    chunks = len(chunk_seconds)
    throughput = chunks / wall  # chunks per second the database took with 2 workers
    by_concurrency = chunks * per_chunk / RESERVED_CONCURRENCY
    by_database = chunks / throughput  # if the database is saturated at 2 workers already
    floor_per_chunk = statistics.mean(floor_chunks) if floor_chunks else float("nan")
    print(
        f"\nmonth end of {CUSTOMERS:,} customers ({seeded['services']:,} services, {seeded['charges']:,}"
        f" once-off charges, {seeded['usage_rows']:,} usage rows): {counts['invoices']:,} invoices,"
        f" {counts['lines']:,} lines, {chunks} chunks in 28 runs on {WORKERS} workers"
        f"\ntotal wall time: {wall / 60:.1f} min (target {TARGET_MINUTES} min at 1,000,000)"
        f"\nper chunk: mean {per_chunk:.3f}s; first 10% {first:.3f}s, last 10% {last:.3f}s,"
        f" last/first {last / first:.2f}x (target at most {TARGET_GROWTH}x)"
        f"\nschema floor of the same rows: {floor_per_chunk:.3f}s per chunk ({floor:.1f}s in all);"
        f" chunk path {per_chunk / floor_per_chunk:.2f}x the floor (target 1.5x)"
        f"\ndatabase size: {size_before / 2**20:,.0f} MiB before, {size_after / 2**20:,.0f} MiB after"
        f" (the month written; before the schema floor)"
        f"\nworker peak memory (VmHWM): {', '.join(f'{p:.0f} MiB' for p in peaks)}"
        f" (at most {PEAK_LIMIT_MIB} MB)"
        f"\nstatements per chunk: min {min(chunk_statements)}, max {max(chunk_statements)}"
        f"\nreserved concurrency {RESERVED_CONCURRENCY}: {chunks} chunks x {per_chunk:.3f}s"
        f" / {RESERVED_CONCURRENCY} = {by_concurrency / 60:.1f} min if the database keeps up;"
        f" the database took {throughput:.2f} chunks/s"
        f" with {WORKERS} workers ({by_database / 60:.1f} min at that rate); the limit is"
        f" {'the database' if by_database > by_concurrency else 'the concurrency'}"
    )
    assert not failures
    assert counts["runs"] == 28
    assert all(peak <= PEAK_LIMIT_MIB for peak in peaks) and len(peaks) == WORKERS
