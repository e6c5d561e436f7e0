"""Reconciliation reads every statement day since the last one it reconciled, however far back (in bounded
steps across runs), and a collection the bank never answered becomes a visible validation error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import psycopg
import pytest

from isp_billing.settings import reset_settings_cache
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


def _collected(conn: psycopg.Connection) -> tuple[str, dict]:
    customer, _ = debit_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    run_debit_orders(RUN_DATE)
    (collection,) = collections_of(conn, invoice)
    return invoice, collection


def test_a_paid_day_long_before_the_run_is_still_read(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given reconciliation last ran on 5 March (reading the 4th), a debit paid on the 5th, and
    # reconciliation down until 25 April
    invoice, collection = _collected(conn)
    run_reconcile(date(2026, 3, 5))
    netcash.debit_orders.settle(str(collection["id"]), "paid")
    # When it runs again on 25 April
    row = run_reconcile(date(2026, 4, 25))
    # Then it read every day from the 5th of March, and the invoice is paid
    days = row["details"]["days"]
    assert days[0] == "2026-03-05" and days[-1] == "2026-04-24" and len(days) == 51
    assert row["status"] == "completed" and row["details"]["behind_from"] is None
    assert invoice_row(conn, invoice)["status"] == "paid"


def test_a_run_far_behind_reads_in_bounded_steps_oldest_first(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given runs read at most 20 days, the last reconciled day is 4 March, and a debit paid on the 5th
    monkeypatch.setenv("RECONCILE_MAX_DAYS_PER_RUN", "20")
    reset_settings_cache()
    invoice, collection = _collected(conn)
    run_reconcile(date(2026, 3, 5))
    netcash.debit_orders.settle(str(collection["id"]), "paid")
    # When runs come on 25 April
    first = run_reconcile(date(2026, 4, 25))
    # Then the first reads 5-24 March (the paid day among them) and says where the next one starts
    assert (first["details"]["days"][0], first["details"]["days"][-1]) == ("2026-03-05", "2026-03-24")
    assert first["details"]["behind_from"] == "2026-03-25"
    assert invoice_row(conn, invoice)["status"] == "paid"
    # And the next runs read on from there, without a gap, until caught up
    second = run_reconcile(date(2026, 4, 25))
    third = run_reconcile(date(2026, 4, 25))
    assert second["details"]["days"][0] == "2026-03-25" and third["details"]["behind_from"] is None
    read = [r["statement_date"] for r in conn.execute("select statement_date from netcash_statement_days")]
    assert len(read) == len(set(read)) == (date(2026, 4, 24) - date(2026, 3, 4)).days + 1


def test_a_collection_the_bank_never_answered_becomes_a_visible_error(
    conn: psycopg.Connection, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given a collection for 5 March that no statement line ever mentions
    _, collection = _collected(conn)
    # When reconciliation runs on 19 March (9 business days after the action date have been read)
    early = run_reconcile(date(2026, 3, 19))
    # Then it is not an error yet
    assert early["status"] == "completed" and early["details"]["unanswered_collections"] == 0
    # When it runs on the 20th (the 19th, the tenth business day, read) and again on the 21st
    late = run_reconcile(date(2026, 3, 20))
    again = run_reconcile(date(2026, 3, 21))
    # Then the run is partial with the collection counted, and one open validation error names it
    assert (late["status"], late["records_failed"], late["details"]["unanswered_collections"]) == (
        "partial",
        1,
        1,
    )
    assert again["status"] == "partial"
    (error,) = conn.execute("select * from validation_errors").fetchall()
    assert (error["error_code"], error["record_id"]) == ("collection_unanswered", collection["id"])
