"""Enforce-overdue never suspends a customer the bank is about to pay (a debit in flight, a mandated debit
date still to come; grace from a returned debit's date, not the due date), and never one whose payment
committed while the run was working (the debt is re-checked under the invoices' locks)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from isp_billing_cli.fakes import interstellio as fake_interstellio
from isp_billing_cli.fakes import netcash as fake_netcash
from tests.collections_helpers import (
    collections_of,
    debit_customer,
    issued_invoice,
    netcash_for_jobs,
    run_debit_orders,
    run_overdue,
    run_reconcile,
)
from tests.concurrency import wait_until_a_session_waits_for_a_lock
from tests.factories import insert_customer
from tests.lifecycle_helpers import fake_interstellio_for_functions, service_row, service_with_line

INVOICE_DATE = date(2026, 3, 1)  # due 8 March


@pytest.fixture
def interstellio(clean_db: str) -> Iterator[fake_interstellio.FakeInterstellio]:
    with fake_interstellio_for_functions() as server:
        yield server


@pytest.fixture
def netcash(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_netcash.FakeNetcash]:
    yield from netcash_for_jobs(monkeypatch)


def _debit_day_25(
    conn: psycopg.Connection, interstellio: fake_interstellio.FakeInterstellio
) -> tuple[str, str]:
    customer, _ = debit_customer(conn, debit_day=25)
    service, _ = service_with_line(conn, interstellio, customer_id=customer)
    invoice = issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    return service, invoice


def test_a_mandated_debit_date_still_to_come_is_not_enforced(
    conn: psycopg.Connection, interstellio: fake_interstellio.FakeInterstellio
) -> None:
    # Given an auto-pay customer with debit day 25 and an invoice of 1 March due the 8th
    service, _ = _debit_day_25(conn, interstellio)
    # When enforce-overdue runs on 23 March (past the 14-day grace from the due date)
    row = run_overdue(date(2026, 3, 23))
    # Then the line stays active: the mandate debits it on the 25th
    assert row["details"]["suspended"] == 0 and service_row(conn, service)["status"] == "active"


def test_a_debit_in_flight_is_not_enforced_and_grace_runs_from_its_return(
    conn: psycopg.Connection,
    interstellio: fake_interstellio.FakeInterstellio,
    netcash: fake_netcash.FakeNetcash,
) -> None:
    # Given the invoice's debit submitted on 20 March for the 25th
    service, invoice = _debit_day_25(conn, interstellio)
    run_debit_orders(date(2026, 3, 20))
    (collection,) = collections_of(conn, invoice)
    assert (collection["status"], collection["action_date"]) == ("submitted", date(2026, 3, 25))
    # When enforce-overdue runs on the 23rd and the 30th, while the debit is in flight
    # Then nothing is suspended
    assert run_overdue(date(2026, 3, 23))["details"]["suspended"] == 0
    assert run_overdue(date(2026, 3, 30))["details"]["suspended"] == 0
    # When the bank returns it (code 12, account closed: the mandate is blocked) and reconciliation reads it
    netcash.debit_orders.settle(str(collection["id"]), "unpaid", day=date(2026, 3, 27), code="12")
    run_reconcile(date(2026, 3, 28))
    # Then the grace period runs from the returned debit (25 March), not from the due date (8 March)
    assert run_overdue(date(2026, 4, 8))["details"]["suspended"] == 0
    assert service_row(conn, service)["status"] == "active"
    assert run_overdue(date(2026, 4, 9))["details"]["suspended"] == 1
    assert service_row(conn, service)["status"] == "suspended"


def test_a_payment_committed_while_the_run_works_wins(
    conn: psycopg.Connection, clean_db: str, interstellio: fake_interstellio.FakeInterstellio
) -> None:
    # Given a customer with three lines and an invoice already overdue, past the grace period today
    today = date(2026, 5, 20)
    customer = insert_customer(conn)
    services = [service_with_line(conn, interstellio, customer_id=customer)[0] for _ in range(3)]
    invoice = issued_invoice(conn, customer, invoice_date=today - timedelta(days=22))
    run_overdue(today - timedelta(days=5))
    # And a payment of it in flight (applied to the invoice under its row lock, not committed yet)
    payment = psycopg.connect(clean_db, row_factory=dict_row)
    payment.execute("set local role service_role")
    payment.execute(
        "update customer_invoices set amount_paid = total_amount, status = 'paid', paid_at = now()"
        " where id = %s",
        (invoice,),
    )
    outcome: list[dict[str, Any]] = []
    # When enforce-overdue runs (it selected the lines before the payment committed) and the payment
    # commits while the run is about to suspend
    run = threading.Thread(target=lambda: outcome.append(run_overdue(today)))
    run.start()
    wait_until_a_session_waits_for_a_lock(conn)
    payment.commit()
    payment.close()
    run.join(60)
    # Then no line is suspended and no suspension e-mail is queued
    assert outcome[0]["details"]["suspended"] == 0
    assert outcome[0]["details"]["not_suspended_paid_meanwhile"] == 3
    assert [service_row(conn, s)["status"] for s in services] == ["active"] * 3
    assert conn.execute("select count(*) as n from notifications").fetchone()["n"] == 0
