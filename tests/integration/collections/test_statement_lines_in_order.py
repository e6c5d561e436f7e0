"""The bank's answers applied in its order against each collection's state at that moment: a paid and an
unpaid line on one day, a paid line for a collection that is no longer `submitted` (a second payment, a
payment of one we had failed), a return of a failed collection, and late returns counted for PASA's rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from isp_billing_cli.fakes import netcash as fake_netcash
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


def _collected(conn: psycopg.Connection) -> tuple[str, str, dict]:
    customer, _ = debit_customer(conn)
    invoice = issued_invoice(conn, customer, total="699.00", invoice_date=INVOICE_DATE)
    run_debit_orders(RUN_DATE)
    (collection,) = collections_of(conn, invoice)
    return customer, invoice, collection


def _credit(conn: psycopg.Connection, customer: str) -> Decimal:
    row = conn.execute("select credit_balance from customer_billing where customer_id = %s", (customer,))
    return row.fetchone()["credit_balance"]


def _errors(conn: psycopg.Connection) -> list[tuple[str, str]]:
    rows = conn.execute("select error_code, payload from validation_errors order by created_at").fetchall()
    return [(row["error_code"], row["payload"]["collection_status"]) for row in rows]


def test_a_paid_and_an_unpaid_line_on_one_day_leave_the_invoice_owing(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a collection NetCash shows paid (TDD) and then returned 02 (DRU) on the same statement day
    customer, invoice, collection = _collected(conn)
    netcash.debit_orders.settle(str(collection["id"]), "paid")
    netcash.debit_orders.settle(str(collection["id"]), "unpaid", day=ACTION_DATE, code="02")
    # When reconciliation reads the day
    row = run_reconcile(date(2026, 3, 6))
    # Then the paid line settled it and the unpaid line reversed that payment: the invoice owes R699
    assert (row["details"]["paid"], row["details"]["reversed"], row["details"]["unpaid"]) == (1, 1, 0)
    original, reversal = collections_of(conn, invoice)
    assert (original["status"], reversal["kind"], reversal["failure_code"]) == ("reversed", "reversal", "02")
    owed = invoice_row(conn, invoice)
    assert (owed["amount_paid"], owed["amount_due"]) == (Decimal("0.00"), Decimal("699.00"))
    assert owed["status"] != "paid" and _credit(conn, customer) == Decimal("0")
    # And the one debit_failed e-mail says it was reversed
    (mail,) = conn.execute("select data from notifications where kind = 'debit_failed'").fetchall()
    assert mail["data"]["reversed"] is True


def test_a_paid_line_for_a_collection_we_had_failed_is_applied_and_reported(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a collection the lost-upload recovery marked failed, which NetCash did collect after all
    customer, invoice, collection = _collected(conn)
    conn.execute(
        "update payment_transactions set status = 'failed', failure_code = 'not_submitted' where id = %s",
        (collection["id"],),
    )
    netcash.debit_orders.settle(str(collection["id"]), "paid")
    # When reconciliation reads the day
    row = run_reconcile(date(2026, 3, 6))
    # Then the money is not dropped: it pays the invoice, and a validation error names the line
    assert row["details"]["unexpected"] == 1 and row["records_skipped"] == 1
    assert invoice_row(conn, invoice)["status"] == "paid"
    assert _errors(conn) == [("paid_line_not_submitted", "failed")]
    assert _credit(conn, customer) == Decimal("0")


def test_a_second_paid_line_for_one_collection_becomes_credit_with_an_error(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a collection NetCash paid twice (on its action date and the day after)
    customer, invoice, collection = _collected(conn)
    netcash.debit_orders.settle(str(collection["id"]), "paid")
    netcash.debit_orders.settle(str(collection["id"]), "paid", day=date(2026, 3, 6))
    # When reconciliation reads both days
    row = run_reconcile(date(2026, 3, 7))
    # Then the invoice is paid once, the second R699 is the customer's credit, and it is visible
    assert (row["details"]["paid"], row["details"]["unexpected"]) == (1, 1)
    assert invoice_row(conn, invoice)["amount_paid"] == Decimal("699.00")
    assert _credit(conn, customer) == Decimal("699.00")
    assert _errors(conn) == [("paid_line_not_submitted", "successful")]
    # And re-reading the days changes nothing
    conn.execute("delete from netcash_statement_days")
    run_reconcile(date(2026, 3, 7))
    assert _credit(conn, customer) == Decimal("699.00") and len(_errors(conn)) == 1


def test_an_unpaid_line_for_a_failed_collection_is_recorded_not_dropped(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a collection already returned 02, and a second unpaid line for it
    _, invoice, collection = _collected(conn)
    netcash.debit_orders.settle(str(collection["id"]), "unpaid", day=date(2026, 3, 9), code="02")
    netcash.debit_orders.settle(str(collection["id"]), "unpaid", day=date(2026, 3, 10), code="04")
    # When reconciliation reads both days
    row = run_reconcile(date(2026, 3, 11))
    # Then the first failed it, the second is a validation error naming the line; nothing else changed
    assert (row["details"]["unpaid"], row["details"]["unexpected"]) == (1, 1)
    (failed,) = collections_of(conn, invoice)
    assert (failed["status"], failed["failure_code"]) == ("failed", "02")
    assert _errors(conn) == [("unpaid_line_unexpected_state", "failed")]


def test_a_late_02_waits_for_the_next_mandated_date(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a collection paid on 5 March, settled, then returned 02 on the 9th (after its paid line)
    _, invoice, collection = _collected(conn)
    netcash.debit_orders.settle(str(collection["id"]), "paid")
    run_reconcile(date(2026, 3, 6))
    netcash.debit_orders.settle(str(collection["id"]), "unpaid", day=date(2026, 3, 9), code="02")
    run_reconcile(date(2026, 3, 10))
    # When the debit runs later in March / Then nothing is submitted before the next mandated date
    run_debit_orders(date(2026, 3, 11))
    run_debit_orders(date(2026, 3, 23))
    assert [c["kind"] for c in collections_of(conn, invoice)] == ["collection", "reversal"]
    # When it runs for 1 April / Then the invoice is collected again on its mandated date
    run_debit_orders(date(2026, 3, 27))
    retry = collections_of(conn, invoice)[-1]
    assert (retry["kind"], retry["status"], retry["action_date"]) == (
        "collection",
        "submitted",
        date(2026, 4, 1),
    )


def test_two_consecutive_late_02s_block_the_mandate(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a collection paid then returned 02, collected again on 1 April, paid and returned 02 again
    customer, invoice, collection = _collected(conn)
    netcash.debit_orders.settle(str(collection["id"]), "paid")
    netcash.debit_orders.settle(str(collection["id"]), "unpaid", day=date(2026, 3, 9), code="02")
    run_reconcile(date(2026, 3, 10))
    assert conn.execute("select count(*) as n from mandate_collection_blocks").fetchone()["n"] == 0
    run_debit_orders(date(2026, 3, 27))
    second = next(c for c in collections_of(conn, invoice) if c["status"] == "submitted")
    netcash.debit_orders.settle(str(second["id"]), "paid")
    netcash.debit_orders.settle(str(second["id"]), "unpaid", day=date(2026, 4, 6), code="02")
    # When reconciliation reads them
    run_reconcile(date(2026, 4, 7))
    # Then the mandate is blocked, and no later run debits it
    (block,) = conn.execute("select * from mandate_collection_blocks").fetchall()
    assert block["unpaid_code"] == "02" and str(block["customer_id"]) == customer
    run_debit_orders(date(2026, 4, 28))
    assert len([c for c in collections_of(conn, invoice) if c["kind"] == "collection"]) == 2
