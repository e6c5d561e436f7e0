"""Job reconcile-payments against the fake NetCash statement: settle, unpaid codes as data, reversals,
unmatched lines, FILE NOT READY / NO CHANGE, and re-reading a day changing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal

import psycopg
import pytest

from isp_billing import clock
from isp_billing_cli.fakes import netcash as fake_netcash
from isp_billing_cli.fakes.netcash_batches import FakeStatementLine
from tests.collections_helpers import (
    collections_of,
    debit_customer,
    invoice_row,
    issued_invoice,
    netcash_for_jobs,
    run_debit_orders,
    run_reconcile,
)

INVOICE_DATE = date(2026, 3, 1)
RUN_DATE = date(2026, 3, 2)
ACTION_DATE = date(2026, 3, 5)


@pytest.fixture
def netcash(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_netcash.FakeNetcash]:
    yield from netcash_for_jobs(monkeypatch)


def _collected(conn: psycopg.Connection, *, total: str = "699.00") -> tuple[str, str, dict]:
    customer, _ = debit_customer(conn)
    invoice = issued_invoice(conn, customer, total=total, invoice_date=INVOICE_DATE)
    run_debit_orders(RUN_DATE)
    (collection,) = [c for c in collections_of(conn, invoice) if c["status"] == "submitted"]
    return customer, invoice, collection


def test_a_paid_debit_settles_the_invoice_and_rereading_changes_nothing(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a submitted collection that NetCash's statement shows paid on its action date
    customer, invoice, collection = _collected(conn)
    netcash.debit_orders.settle(str(collection["id"]), "paid")
    # When reconciliation runs the next day
    row = run_reconcile(date(2026, 3, 6))
    # Then the collection is successful and the invoice paid, with paid_at
    assert row["records_processed"] == 1 and row["details"]["days"] == ["2026-03-05"]
    (settled,) = collections_of(conn, invoice)
    assert settled["status"] == "successful" and settled["provider_reference"].startswith("TDD:")
    paid = invoice_row(conn, invoice)
    assert (paid["status"], paid["amount_paid"], paid["amount_due"]) == (
        "paid",
        Decimal("699.00"),
        Decimal("0"),
    )
    assert paid["paid_at"] is not None
    # When the day is read again (its reconciled mark removed) and the job re-runs
    conn.execute("delete from netcash_statement_days")
    run_reconcile(date(2026, 3, 6))
    # Then nothing changed: one collection, the same amount paid, no credit
    assert len(collections_of(conn, invoice)) == 1
    assert invoice_row(conn, invoice)["amount_paid"] == Decimal("699.00")
    credit = conn.execute("select credit_balance from customer_billing where customer_id = %s", (customer,))
    assert credit.fetchone()["credit_balance"] == Decimal("0")


def test_file_not_ready_is_retried_and_no_change_is_a_reconciled_day(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a collection paid on 5 March, and the statement of the 5th not ready yet
    _, invoice, collection = _collected(conn)
    netcash.debit_orders.settle(str(collection["id"]), "paid")
    netcash.debit_orders.statement_not_ready.add(ACTION_DATE)
    # When reconciliation runs on the 7th / Then it stops at the 5th and reconciles nothing
    row = run_reconcile(date(2026, 3, 7))
    assert row["details"]["not_ready_from"] == "2026-03-05" and row["details"]["days"] == []
    assert collections_of(conn, invoice)[0]["status"] == "submitted"
    # When the file is ready and the job runs again
    netcash.debit_orders.statement_not_ready.clear()
    row = run_reconcile(date(2026, 3, 7))
    # Then the 5th settles and the 6th (NO CHANGE) is reconciled too
    assert row["details"]["days"] == ["2026-03-05", "2026-03-06"]
    assert collections_of(conn, invoice)[0]["status"] == "successful"
    days = conn.execute("select statement_date, lines_read from netcash_statement_days order by 1").fetchall()
    assert [(d["statement_date"], d["lines_read"]) for d in days] == [(ACTION_DATE, 1), (date(2026, 3, 6), 0)]


UNPAID_CODES = [
    "02",
    "03",
    "04",
    "06",
    "08",
    "10",
    "12",
    "14",
    "16",
    "18",
    "22",
    "26",
    "28",
    "30",
    "32",
    "34",
    "36",
    "50",
    "51",
    "56",
    "60",
    "81",
    "82",
    "83",
    "84",
    "85",
    "86",
    "87",
    "88",
    "89",
    "90",
    "145",
]


def test_every_code_in_the_table_has_its_case(conn: psycopg.Connection) -> None:
    # Given the reference table / When its codes are listed / Then each has a case below
    codes = [row["code"] for row in conn.execute("select code from unpaid_reason_codes order by code")]
    assert sorted(codes) == sorted(UNPAID_CODES)


@pytest.mark.parametrize("code", UNPAID_CODES)
def test_each_unpaid_code_acts_as_its_table_row_says(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash, code: str
) -> None:
    # Given a submitted collection the bank returns unpaid with this code two days after its action date
    customer, invoice, collection = _collected(conn)
    netcash.debit_orders.settle(str(collection["id"]), "unpaid", day=date(2026, 3, 7), code=code)
    rule = conn.execute("select * from unpaid_reason_codes where code = %s", (code,)).fetchone()
    # When reconciliation runs
    run_reconcile(date(2026, 3, 8))
    # Then the collection failed with the code and its reason, the invoice still owes everything
    (failed,) = collections_of(conn, invoice)
    assert (failed["status"], failed["failure_code"], failed["failure_reason"]) == (
        "failed",
        code,
        rule["description"],
    )
    assert invoice_row(conn, invoice)["amount_paid"] == Decimal("0")
    # And the mandate is blocked exactly when the code's action stops collection
    blocked = conn.execute(
        "select unpaid_code from mandate_collection_blocks where customer_id = %s", (customer,)
    ).fetchall()
    assert bool(blocked) == (rule["action"] in ("stop_permanent", "stop_new_mandate"))
    # And the customer gets a debit_failed e-mail in plain words with the EFT offer
    mail = conn.execute("select * from notifications where kind = 'debit_failed'").fetchone()
    assert str(mail["customer_id"]) == customer and mail["data"]["code"] == code
    from isp_billing.notifications.templates import render

    body = render(mail["template"], mail["data"]).text
    assert "EFT" in body and mail["data"]["invoice_number"] in body
    # And a retry code collects again only on the next mandated date (1 April), never in March
    if not blocked:
        run_debit_orders(date(2026, 3, 23))  # earliest action date 26 March: before 1 April
        assert len(collections_of(conn, invoice)) == 1
        run_debit_orders(date(2026, 3, 27))  # Friday: action date Wednesday 1 April
        retry = collections_of(conn, invoice)[-1]
        assert (retry["status"], retry["attempt_number"], retry["action_date"]) == (
            "submitted",
            2,
            date(2026, 4, 1),
        )
    else:
        run_debit_orders(date(2026, 3, 27))
        assert len(collections_of(conn, invoice)) == 1


def test_a_dispute_after_payment_is_a_reversal_never_an_edit(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a collection paid on its action date and settled
    _, invoice, collection = _collected(conn)
    netcash.debit_orders.settle(str(collection["id"]), "paid")
    run_reconcile(date(2026, 3, 6))
    # When the account holder disputes it (code 30) on 20 March and reconciliation reads that day
    netcash.debit_orders.settle(str(collection["id"]), "disputed", day=date(2026, 3, 20))
    run_reconcile(date(2026, 3, 21))
    # Then the original is reversed (not edited otherwise), a new reversal row undoes the payment, and
    # the invoice owes everything again (overdue: its due date has passed)
    original, reversal = collections_of(conn, invoice)
    assert (original["status"], original["amount"], original["kind"]) == (
        "reversed",
        Decimal("699.00"),
        "collection",
    )
    assert (reversal["kind"], reversal["status"], reversal["original_transaction_id"]) == (
        "reversal",
        "successful",
        original["id"],
    )
    reopened = invoice_row(conn, invoice)
    assert (reopened["status"], reopened["amount_paid"], reopened["paid_at"]) == (
        "overdue",
        Decimal("0"),
        None,
    )
    assert conn.execute("select count(*) as n from mandate_collection_blocks").fetchone()["n"] == 1


def test_a_line_that_matches_nothing_is_a_validation_error(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a statement line whose Extra 1 is none of our collections
    netcash.debit_orders.statement_lines.append(
        FakeStatementLine(
            date(2026, 3, 5), "TDD", "999", "Two day debit order", Decimal("10.00"), "+", "not-ours"
        )
    )
    # When reconciliation reads the day (twice) / Then one open validation error names the line
    run_reconcile(date(2026, 3, 6))
    conn.execute("delete from netcash_statement_days")
    run_reconcile(date(2026, 3, 6))
    (error,) = conn.execute("select * from validation_errors").fetchall()
    assert (error["error_code"], error["record_ref"]) == ("unmatched_statement_line", "TDD:999")


def test_timeline_unpaid_02_then_the_next_mandated_date_succeeds(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given an invoice of 1 March, debit day 1, and the clock moved through the month
    customer, _ = debit_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    try:
        # When the debit runs on 2 March, comes back 02 on the 9th, and reconciliation reads it on the 10th
        clock.move_to(datetime.combine(RUN_DATE, time(6, 0)))
        run_job_today()
        first = collections_of(conn, invoice)[0]
        netcash.debit_orders.settle(str(first["id"]), "unpaid", day=date(2026, 3, 9), code="02")
        clock.move_to(datetime.combine(date(2026, 3, 10), time(9, 0)))
        run_reconcile()
        # And the debit runs every business day up to the next mandated date (1 April)
        for day in (date(2026, 3, 11), date(2026, 3, 20), date(2026, 3, 27)):
            clock.move_to(datetime.combine(day, time(6, 0)))
            run_job_today()
        second = collections_of(conn, invoice)[-1]
        netcash.debit_orders.settle(str(second["id"]), "paid")
        clock.move_to(datetime.combine(date(2026, 4, 2), time(9, 0)))
        run_reconcile()
    finally:
        clock.reset()
    # Then the first attempt failed 02, the second (1 April) succeeded, and the invoice is paid
    attempts = collections_of(conn, invoice)
    assert [(c["attempt_number"], c["status"], c["action_date"]) for c in attempts] == [
        (1, "failed", ACTION_DATE),
        (2, "successful", date(2026, 4, 1)),
    ]
    assert invoice_row(conn, invoice)["status"] == "paid"


def test_two_consecutive_02_need_a_new_mandate(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a collection returned 02, collected again on the next mandated date and returned 02 again
    customer, invoice, collection = _collected(conn)
    netcash.debit_orders.settle(str(collection["id"]), "unpaid", day=date(2026, 3, 9), code="02")
    run_reconcile(date(2026, 3, 10))
    assert conn.execute("select count(*) as n from mandate_collection_blocks").fetchone()["n"] == 0
    run_debit_orders(date(2026, 3, 27))
    second = collections_of(conn, invoice)[-1]
    netcash.debit_orders.settle(str(second["id"]), "unpaid", day=date(2026, 4, 3), code="02")
    # When reconciliation reads it
    run_reconcile(date(2026, 4, 6))
    # Then the mandate is blocked and no later run debits it
    (block,) = conn.execute("select * from mandate_collection_blocks").fetchall()
    assert block["unpaid_code"] == "02" and str(block["customer_id"]) == customer
    run_debit_orders(date(2026, 4, 28))
    assert len(collections_of(conn, invoice)) == 2


def run_job_today() -> None:
    from tests.collections_helpers import run_job

    run_job("ProcessDebitOrdersFunction")
