"""Job process-debit-orders against the local fake NetCash: selection, limits, the batch, and exactly once
under re-runs, concurrent claims, lost upload answers and a real kill between the upload and the commit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from isp_billing.collections import debit_orders_sql as sql
from isp_billing_cli.fakes import netcash as fake_netcash
from tests.collections_helpers import (
    collections_of,
    debit_customer,
    issued_invoice,
    netcash_for_jobs,
    run_debit_orders,
)
from tests.concurrency import wait_until_a_session_waits_for_a_lock
from tests.netcash_env import calls

ROOT = Path(__file__).resolve().parents[3]
INVOICE_DATE = date(2026, 3, 1)  # a Sunday; debit day 1 makes it the mandated date
RUN_DATE = date(2026, 3, 2)  # Monday: TwoDay lead of 3 business days gives action date Thursday 5 March
ACTION_DATE = date(2026, 3, 5)


@pytest.fixture
def netcash(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_netcash.FakeNetcash]:
    yield from netcash_for_jobs(monkeypatch)


def _uploaded_lines(fake: fake_netcash.FakeNetcash) -> list[list[str]]:
    uploads = calls(fake, "BatchFileUpload")
    return [
        line.split("\t")
        for upload in uploads
        for line in upload.params["File"].splitlines()
        if line[0] == "T"
    ]


def test_a_run_collects_due_invoices_as_one_authorised_batch(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given two due debit-order customers, plus one test customer, one not on auto-pay, one whose mandate
    # is not accepted, and one whose invoice is above the mandate amount
    due = [debit_customer(conn)[0] for _ in range(2)]
    invoices = [issued_invoice(conn, customer, invoice_date=INVOICE_DATE) for customer in due]
    test_customer, _ = debit_customer(conn, is_test=True)
    no_auto_pay, _ = debit_customer(conn, auto_pay=False)
    pending, method = debit_customer(conn)
    conn.execute("update customer_payment_methods set mandate_status = 'pending' where id = %s", (method,))
    too_big, _ = debit_customer(conn, mandate_amount="500.00")
    skipped = [
        issued_invoice(conn, c, invoice_date=INVOICE_DATE) for c in (test_customer, no_auto_pay, pending)
    ]
    big_invoice = issued_invoice(conn, too_big, invoice_date=INVOICE_DATE)

    # When the job runs
    row = run_debit_orders(RUN_DATE)

    # Then one batch of the two due invoices was uploaded, its report read and the batch authorised; the
    # run is partial, counting the invoice it may not debit, so that it is visible on the jobs view
    assert (row["status"], row["records_processed"], row["records_failed"]) == ("partial", 2, 1)
    assert row["details"]["not_debitable"] == 1
    assert len(calls(netcash, "BatchFileUpload")) == 1
    lines = _uploaded_lines(netcash)
    assert sorted(line[2] for line in lines) == ["69900", "69900"]
    batch = conn.execute("select * from debit_order_batches").fetchone()
    assert (
        batch["status"] == "authorised" and batch["action_date"] == ACTION_DATE and batch["item_count"] == 2
    )
    assert netcash.debit_orders.batches[batch["batch_name"]].authorised
    # And each invoice has one submitted collection carrying the batch, the action date and attempt 1,
    # whose id travelled in Extra 1
    for invoice in invoices:
        (collection,) = collections_of(conn, invoice)
        assert (collection["status"], collection["batch_reference"], collection["action_date"]) == (
            "submitted",
            batch["batch_name"],
            ACTION_DATE,
        )
        assert collection["attempt_number"] == 1 and collection["amount"] == Decimal("699.00")
        assert str(collection["id"]) in {line[3] for line in lines}
    # And the others were not debited; the one above its mandate has a validation error and an EFT e-mail
    assert all(collections_of(conn, invoice) == [] for invoice in [*skipped, big_invoice])
    error = conn.execute("select * from validation_errors where source = 'debit_orders'").fetchone()
    assert (error["record_ref"], error["error_code"]) == (big_invoice, "above_mandate_amount")
    mail = conn.execute("select * from notifications where kind = 'debit_not_possible'").fetchone()
    assert str(mail["customer_id"]) == too_big and mail["template"] == "debit_not_possible"


def test_a_rerun_uploads_nothing_again(conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash) -> None:
    # Given a run that collected an invoice, and an invoice above its mandate
    customer, _ = debit_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    too_big, _ = debit_customer(conn, mandate_amount="100.00")
    issued_invoice(conn, too_big, invoice_date=INVOICE_DATE)
    run_debit_orders(RUN_DATE)
    # When the job runs again the same day and the next
    run_debit_orders(RUN_DATE)
    run_debit_orders(date(2026, 3, 3))
    # Then there is still one upload, one collection, one validation error and one e-mail
    assert len(calls(netcash, "BatchFileUpload")) == 1
    assert len(collections_of(conn, invoice)) == 1
    assert conn.execute("select count(*) as n from validation_errors").fetchone()["n"] == 1
    assert conn.execute("select count(*) as n from notifications").fetchone()["n"] == 1


def test_an_invoice_waits_for_its_mandated_date(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given debit day 20 and an invoice of 1 March
    customer, _ = debit_customer(conn, debit_day=20)
    invoice = issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    # When the job runs on 2 March (earliest action date 5 March) / Then nothing is collected
    run_debit_orders(RUN_DATE)
    assert collections_of(conn, invoice) == [] and calls(netcash, "BatchFileUpload") == []
    # When it runs on Tuesday 17 March (action date Friday 20 March) / Then it is collected on the 20th
    run_debit_orders(date(2026, 3, 17))
    (collection,) = collections_of(conn, invoice)
    assert collection["action_date"] == date(2026, 3, 20)


def test_one_collection_per_customer_per_batch(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a customer with two unpaid invoices (arrears are never folded into one debit)
    customer, _ = debit_customer(conn)
    older = issued_invoice(conn, customer, invoice_date=date(2026, 2, 1))
    newer = issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    # When the job runs twice on consecutive business days
    run_debit_orders(RUN_DATE)
    run_debit_orders(date(2026, 3, 3))
    # Then each invoice is its own collection, the older first, in separate batches
    first, second = collections_of(conn, older)[0], collections_of(conn, newer)[0]
    assert first["amount"] == second["amount"] == Decimal("699.00")
    assert (
        first["batch_reference"] != second["batch_reference"] and first["created_at"] < second["created_at"]
    )


def test_a_dry_run_writes_nothing(conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash) -> None:
    # Given a due invoice / When a dry run runs / Then it counts it, uploads nothing and writes no row
    customer, _ = debit_customer(conn)
    issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    row = run_debit_orders(RUN_DATE, dry_run=True)
    assert row["details"]["would_collect"] == 1
    assert calls(netcash, "BatchFileUpload") == []
    assert conn.execute("select count(*) as n from payment_transactions").fetchone()["n"] == 0


def test_a_public_holiday_uploads_nothing(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a due invoice and Human Rights Day (Saturday 21 March 2026 is not a weekday; use Good Friday)
    customer, _ = debit_customer(conn)
    issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    # When the job runs on Good Friday 3 April 2026 / Then it uploads nothing
    row = run_debit_orders(date(2026, 4, 3))
    assert row["details"]["business_day"] is False and calls(netcash, "BatchFileUpload") == []


def test_load_report_rejections_fail_exactly_those_lines(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given two due customers, one of whose account references NetCash rejects in the load report
    good, _ = debit_customer(conn)
    bad, _ = debit_customer(conn)
    good_invoice = issued_invoice(conn, good, invoice_date=INVOICE_DATE)
    bad_invoice = issued_invoice(conn, bad, invoice_date=INVOICE_DATE)
    bad_reference = conn.execute("select account_number from customers where id = %s", (bad,)).fetchone()
    netcash.debit_orders.reject_references[bad_reference["account_number"]] = (
        "Account is inactive on masterfile"
    )
    # When the job runs
    row = run_debit_orders(RUN_DATE)
    # Then only the rejected collection failed, with NetCash's reason, and the batch is authorised
    assert (row["records_processed"], row["records_failed"]) == (1, 1)
    assert collections_of(conn, good_invoice)[0]["status"] == "submitted"
    (failed,) = collections_of(conn, bad_invoice)
    assert (failed["status"], failed["failure_code"], failed["failure_reason"]) == (
        "failed",
        "load_rejected",
        "Account is inactive on masterfile",
    )
    assert conn.execute("select status from debit_order_batches").fetchone()["status"] == "authorised"


def test_a_lost_upload_answer_is_resolved_by_asking_netcash(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given NetCash takes the file but its answer is lost
    customer, _ = debit_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    netcash.debit_orders.lose_next_upload_answer = True
    # When the job runs / Then the batch is unknown and the collection stays submitted
    run_debit_orders(RUN_DATE)
    assert conn.execute("select status from debit_order_batches").fetchone()["status"] == "unknown"
    # When the next run comes
    run_debit_orders(date(2026, 3, 3))
    # Then it found the batch by name and authorised it, without uploading it (or the invoice) again
    assert len(calls(netcash, "BatchFileUpload")) == 1
    assert conn.execute("select status from debit_order_batches").fetchone()["status"] == "authorised"
    (collection,) = collections_of(conn, invoice)
    assert collection["status"] == "submitted"


def test_an_upload_that_never_arrived_is_collected_again_later(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given the upload fails before NetCash saw it (HTTP 500)
    customer, _ = debit_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    netcash.fail_next("http_500")
    run_debit_orders(RUN_DATE)
    # When the next run asks NetCash, which has no such batch
    run_debit_orders(date(2026, 3, 3))
    # Then the first collection failed as not submitted and a new batch collects the invoice (attempt 2)
    first, second = collections_of(conn, invoice)
    assert (first["status"], first["failure_code"]) == ("failed", "not_submitted")
    assert (second["status"], second["attempt_number"]) == ("submitted", 2)
    statuses = [
        r["status"] for r in conn.execute("select status from debit_order_batches order by created_at")
    ]
    assert statuses == ["not_submitted", "authorised"]
    assert len(netcash.debit_orders.batches) == 1


def test_two_concurrent_claims_never_take_an_invoice_twice(
    conn: psycopg.Connection, clean_db: str, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a due invoice and a first session (the runtime role as service_role) that claimed it, uncommitted
    customer, _ = debit_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    arguments = {
        "action_date": ACTION_DATE,
        "window_start": date(2026, 1, 1),
        "item_limit": Decimal("1e6"),
        "daily_limit": Decimal("1e9"),
    }
    first = psycopg.connect(clean_db, row_factory=dict_row)
    second = psycopg.connect(clean_db, row_factory=dict_row, autocommit=False)
    first.execute("set local role service_role")
    first_claimed = sql.claim(first, batch_name="ISPB-A", collect=lambda *_: None, **arguments).count
    result: list[int] = []

    def claim_second() -> None:
        second.execute("set local role service_role")
        result.append(sql.claim(second, batch_name="ISPB-B", collect=lambda *_: None, **arguments).count)
        second.commit()

    # When a second session claims at the same moment (it waits on the live-collection index), and the
    # first then commits
    thread = threading.Thread(target=claim_second)
    thread.start()
    wait_until_a_session_waits_for_a_lock(conn)
    first.commit()
    thread.join(10)
    first.close()
    second.close()
    # Then exactly one claim took the invoice
    assert (first_claimed, result) == (1, [0])
    assert len(collections_of(conn, invoice)) == 1


def test_two_concurrent_runs_upload_once(conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash) -> None:
    # Given due invoices
    for _ in range(3):
        customer, _ = debit_customer(conn)
        issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    outcomes: list[str] = []

    def run() -> None:
        try:
            outcomes.append(run_debit_orders(RUN_DATE)["status"])
        except Exception as error:  # the second live run is refused
            outcomes.append(type(error).__name__)

    # When two runs start at once, then a third after them
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    run()
    # Then the invoices were uploaded once, one collection each
    assert len(calls(netcash, "BatchFileUpload")) == 1
    assert conn.execute("select count(*) as n from payment_transactions").fetchone()["n"] == 3
    assert "completed" in outcomes


def test_a_crash_between_upload_and_commit_never_collects_twice(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a due invoice
    customer, _ = debit_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    # When the run's process is SIGKILLed the moment NetCash answered the upload
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.kill_after_provider",
            "netcash_debit_orders",
            "ProcessDebitOrdersFunction",
            json.dumps({"run_date": RUN_DATE.isoformat()}),
        ],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    assert len(calls(netcash, "BatchFileUpload")) == 1
    assert conn.execute("select status from debit_order_batches").fetchone()["status"] == "uploading"
    # And the next run comes after the dead run's lease has passed
    conn.execute("update cron_execution_log set lease_expires_at = now() - interval '1 second'")
    run_debit_orders(date(2026, 3, 3))
    # Then the batch was found at NetCash and authorised; nothing was uploaded twice
    assert len(calls(netcash, "BatchFileUpload")) == 1
    assert conn.execute("select status from debit_order_batches").fetchone()["status"] == "authorised"
    (collection,) = collections_of(conn, invoice)
    assert collection["status"] == "submitted"


def _killed_after(wrapped: str, run_date: date) -> None:
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.kill_after_provider",
            wrapped,
            "ProcessDebitOrdersFunction",
            json.dumps({"run_date": run_date.isoformat()}),
        ],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]


def test_a_crash_after_netcash_accepted_the_authorisation_never_authorises_twice(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given due invoices, and a run SIGKILLed the moment NetCash accepted RequestBatchAuthorise (the batch
    # is still `loaded` in the database; NetCash holds it authorised and will pay its lines)
    invoices = []
    for _ in range(3):
        customer, _ = debit_customer(conn)
        invoices.append(issued_invoice(conn, customer, invoice_date=INVOICE_DATE))
    netcash.debit_orders.auto_settle = True
    _killed_after("netcash_debit_orders_authorise", RUN_DATE)
    assert conn.execute("select status from debit_order_batches").fetchone()["status"] == "loaded"
    # When the next runs come after the dead run's lease has passed
    conn.execute("update cron_execution_log set lease_expires_at = now() - interval '1 second'")
    run_debit_orders(date(2026, 3, 3))
    run_debit_orders(date(2026, 3, 4))
    # Then the batch was read at NetCash, recorded as authorised, and never authorised a second time
    (batch,) = netcash.debit_orders.batches.values()
    assert batch.authorisations == 1
    assert len(calls(netcash, "RequestBatchAuthorise")) == 1
    assert conn.execute("select status from debit_order_batches").fetchone()["status"] == "authorised"
    # And every invoice was paid once at NetCash: one paid line each on the statement
    paid = [line.extra1 for line in netcash.debit_orders.statement_lines if line.kind == "TDD"]
    assert len(paid) == len(set(paid)) == 3


def test_the_fake_netcash_refuses_a_second_authorisation(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a batch a run authorised
    customer, _ = debit_customer(conn)
    issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    run_debit_orders(RUN_DATE)
    (batch,) = netcash.debit_orders.batches.values()
    # When a client authorises it again / Then NetCash refuses and nothing is paid twice
    from isp_billing.errors import ProviderError
    from isp_billing.providers import registry

    with pytest.raises(ProviderError):
        registry.netcash_debit_orders().authorise_batch(batch.guid)
    assert batch.authorisations == 2 and batch.authorised
