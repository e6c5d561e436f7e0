"""Exactly once, for real: two processes billing at the same time, and a process killed with SIGKILL inside a
chunk's transaction then re-run, leave one invoice per customer per period, gap-free numbers, no line
twice and each credit balance applied once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal

import psycopg

from tests.billing_helpers import billed_customer, run_billing

RUN_DATE = "2026-03-05"

# Bills RUN_DATE without the job's lock (as two SQS deliveries of the same chunks would), chunks of 20;
# with PAUSE set, sleeps after each chunk's writes, before its commit, so a test can kill it there.
_WORKER = """
import os, sys, time
from isp_billing.jobs import JobRun
from isp_billing.billing import run_sql as sql
from isp_billing.billing import run as billing_run
import uuid
if os.environ.get("PAUSE"):
    original = sql.record_problems
    def paused(conn, problems):
        original(conn, problems)
        time.sleep(float(os.environ["PAUSE"]))
    sql.record_problems = paused
run = JobRun(uuid.uuid4(), billing_run.JOB_NAME, "manual", {"run_date": sys.argv[1]}, 20)
for chunk in billing_run.plan_items_for(run):
    billing_run.bill_chunk(run, chunk)
"""


def _customers(conn: psycopg.Connection, count: int) -> list[str]:
    return [
        billed_customer(
            conn, billing_day=5, credit="50.00", services=[{"price": "699.00"}, {"price": "100.00"}]
        )[0]
        for _ in range(count)
    ]


def _start(url: str, pause: float | None = None) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "JOB_CHUNK_SIZE": "20"}
    if pause:
        env["PAUSE"] = str(pause)
    return subprocess.Popen(
        [sys.executable, "-c", _WORKER, RUN_DATE], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _assert_exactly_once(conn: psycopg.Connection, customers: list[str]) -> None:
    per_customer = conn.execute(
        "select customer_id, count(*) as n from customer_invoices group by customer_id"
    ).fetchall()
    assert len(per_customer) == len(customers) and {row["n"] for row in per_customer} == {1}
    numbers = sorted(
        int(row["invoice_number"].rsplit("-", 1)[1])
        for row in conn.execute("select invoice_number from customer_invoices")
    )
    assert numbers == list(range(1, len(customers) + 1))
    counter = conn.execute("select last_value from number_counters where kind = 'invoice'").fetchone()
    assert counter["last_value"] == len(customers)
    lines = conn.execute(
        "select count(*) as n, count(distinct line_key) as keys from invoice_line_items"
    ).fetchone()
    assert lines["n"] == lines["keys"] == 2 * len(customers)  # the two services (credit is not a line)
    balances = conn.execute("select distinct credit_balance from customer_billing").fetchall()
    assert [row["credit_balance"] for row in balances] == [Decimal("0.00")]
    totals = conn.execute(
        "select distinct total_amount, amount_paid, amount_due from customer_invoices"
    ).fetchall()
    assert [(row["total_amount"], row["amount_paid"], row["amount_due"]) for row in totals] == [
        (Decimal("799.00"), Decimal("50.00"), Decimal("749.00"))
    ]
    allocations = conn.execute(
        "select count(*) as n from ledger_entries where kind = 'allocation' and via = 'account_credit'"
    ).fetchone()
    assert allocations["n"] == len(customers)


def test_two_processes_billing_the_same_customers_at_once_bill_each_once(conn, clean_db):
    # Given 100 customers due on 5 March with R50 credit each
    customers = _customers(conn, 100)
    # When two processes bill the same chunks at the same time (no job lock between them)
    first, second = _start(clean_db), _start(clean_db)
    for process in (first, second):
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors.decode()[-2000:]
    # Then every customer has one invoice, numbers 1..100, each line once, each credit applied once
    _assert_exactly_once(conn, customers)


def test_a_second_run_of_the_job_while_one_runs_is_refused(conn, clean_db):
    from isp_billing.errors import JobAlreadyRunning

    # Given a run paused inside its first chunk
    _customers(conn, 5)
    env = {**os.environ, "DATABASE_URL": clean_db, "PAUSE": "3"}
    script = _WORKER.split("run = JobRun")[0] + (
        "from isp_billing_cli.events import LambdaContext\n"
        "from isp_billing_cli.template import function_by_id\n"
        "handler = function_by_id('GenerateInvoicesFunction').load_handler()\n"
        "handler({'run_date': sys.argv[1]}, LambdaContext('GenerateInvoicesFunction'))\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script, RUN_DATE], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while (
            time.monotonic() < deadline
            and not conn.execute("select 1 from cron_execution_log where status = 'running'").fetchone()
        ):
            time.sleep(0.05)
        # When a second run starts / Then it is refused
        try:
            run_billing(date(2026, 3, 5))
            refused = False
        except JobAlreadyRunning:
            refused = True
        assert refused
    finally:
        process.wait(60)
    assert conn.execute("select count(*) as n from customer_invoices").fetchone()["n"] == 5


def test_a_run_killed_inside_a_chunk_and_re_run_bills_each_customer_once(conn, clean_db):
    # Given 100 customers and a billing process that pauses inside every chunk's transaction
    customers = _customers(conn, 100)
    process = _start(clean_db, pause=1.0)
    try:
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and process.poll() is None
            and not conn.execute("select 1 from customer_invoices limit 1").fetchone()
        ):
            time.sleep(0.01)
        time.sleep(0.3)  # the first chunk committed; the second is written and not yet committed
        assert process.poll() is None, "the run finished before it could be killed"
        # When it is killed with SIGKILL (no clean-up of any kind)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    committed = conn.execute("select count(*) as n from customer_invoices").fetchone()["n"]
    assert 0 < committed < len(customers)
    # And billing runs again (the server may take a moment to end the dead session's transaction)
    for _ in range(100):
        if not conn.execute(
            "select 1 from pg_stat_activity"
            " where state like 'idle in transaction%%' and datname = current_database()"
        ).fetchone():
            break
        time.sleep(0.05)
    rerun = _start(clean_db)
    _, errors = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, errors.decode()[-2000:]
    # Then it is as if billed once
    _assert_exactly_once(conn, customers)
