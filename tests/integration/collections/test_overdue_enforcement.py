"""Job enforce-overdue: non-payment suspension past the grace period by the system actor, through the
lifecycle code (audit, Interstellio), reactivation on payment of only what it suspended (by the payment
itself; tests/integration/collections/test_reactivation_after_payment.py has the details); the full
invoice -> debit -> code 12 -> suspension -> EFT -> reactivation timeline on a moved clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import psycopg
import pytest

from isp_billing import clock
from isp_billing_cli.fakes import interstellio as fake_interstellio
from isp_billing_cli.fakes import netcash as fake_netcash
from tests.collections_helpers import (
    admin_suspends,
    collections_of,
    debit_customer,
    invoice_row,
    issued_invoice,
    netcash_for_jobs,
    pay_by_eft,
    run_debit_orders,
    run_overdue,
    run_reconcile,
)
from tests.factories import insert_customer
from tests.lifecycle_helpers import fake_interstellio_for_functions, log_rows, service_row, service_with_line

TODAY = date(2026, 5, 20)


@pytest.fixture
def interstellio(clean_db: str) -> Iterator[fake_interstellio.FakeInterstellio]:
    with fake_interstellio_for_functions() as server:
        yield server


def _pay(conn: psycopg.Connection, invoice: str, amount: str, day: date) -> None:
    status, _, body = pay_by_eft(conn, invoice, amount, day)
    assert status == 201, body


def test_overdue_past_grace_is_suspended_once_by_the_system(
    conn: psycopg.Connection, interstellio: fake_interstellio.FakeInterstellio
) -> None:
    # Given a customer with an active line and an invoice due 15 days ago (grace 14 days)
    customer = insert_customer(conn)
    service, subscriber = service_with_line(conn, interstellio, customer_id=customer)
    invoice = issued_invoice(conn, customer, invoice_date=TODAY - timedelta(days=22))
    # When the job runs, twice
    first = run_overdue(TODAY)
    run_overdue(TODAY)
    # Then the invoice is overdue, the service suspended for non_payment by the system, the line disabled,
    # one audit row with actor system and one e-mail
    assert first["details"]["suspended"] == 1
    assert invoice_row(conn, invoice)["status"] == "overdue"
    assert service_row(conn, service)["status"] == "suspended"
    assert interstellio.subscribers[subscriber]["enabled"] is False
    (entry,) = log_rows(conn, service)
    assert (entry["action"], entry["actor_type"], entry["actor_admin_id"]) == ("suspend", "system", None)
    suspension = conn.execute(
        "select * from service_suspensions where service_id = %s", (service,)
    ).fetchone()
    assert (suspension["suspension_type"], suspension["suspended_by"]) == ("non_payment", None)
    (mail,) = conn.execute("select * from notifications where kind = 'suspended_non_payment'").fetchall()
    assert str(mail["customer_id"]) == customer


def test_paying_during_grace_is_never_suspended(
    conn: psycopg.Connection, interstellio: fake_interstellio.FakeInterstellio
) -> None:
    # Given an invoice due 5 days ago, paid in full now
    customer = insert_customer(conn)
    service, _ = service_with_line(conn, interstellio, customer_id=customer)
    invoice = issued_invoice(conn, customer, invoice_date=date.today() - timedelta(days=12))
    _pay(conn, invoice, "699.00", date.today())
    # When the job runs today and after the grace period would have ended / Then nothing is suspended
    run_overdue(date.today())
    run_overdue(date.today() + timedelta(days=20))
    assert service_row(conn, service)["status"] == "active" and log_rows(conn, service) == []


def test_payment_reactivates_only_what_the_system_suspended(
    conn: psycopg.Connection, interstellio: fake_interstellio.FakeInterstellio
) -> None:
    # Given a customer with two lines: one the job suspends for non-payment, one an admin suspended
    # (technical)
    customer = insert_customer(conn)
    by_system, subscriber = service_with_line(conn, interstellio, customer_id=customer)
    by_admin, _ = service_with_line(conn, interstellio, customer_id=customer)
    admin_suspends(conn, by_admin)
    invoice = issued_invoice(conn, customer, invoice_date=date.today() - timedelta(days=30))
    run_overdue(date.today())
    assert service_row(conn, by_system)["status"] == "suspended"
    # When the overdue amount is paid, and the job runs again
    _pay(conn, invoice, "699.00", date.today())
    assert service_row(conn, by_system)["status"] == "active"
    row = run_overdue(date.today())
    # Then the system's suspension was lifted by the payment itself (line enabled, audit row by system), so
    # the job finds nothing left; the admin's suspension stays
    assert row["details"]["reactivated"] == 0
    assert service_row(conn, by_system)["status"] == "active"
    assert interstellio.subscribers[subscriber]["enabled"] is True
    assert [(e["action"], e["actor_type"]) for e in log_rows(conn, by_system)] == [
        ("suspend", "system"),
        ("reactivate", "system"),
    ] or sorted((e["action"], e["actor_type"]) for e in log_rows(conn, by_system)) == [
        ("reactivate", "system"),
        ("suspend", "system"),
    ]
    assert service_row(conn, by_admin)["status"] == "suspended"


@pytest.fixture
def netcash(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_netcash.FakeNetcash]:
    yield from netcash_for_jobs(monkeypatch)


def test_timeline_debit_code_12_suspension_eft_reactivation(
    conn: psycopg.Connection,
    interstellio: fake_interstellio.FakeInterstellio,
    netcash: fake_netcash.FakeNetcash,
) -> None:
    # Given a debit-order customer with a line and an invoice of 1 March (due 8 March), clock moved along
    customer, _ = debit_customer(conn)
    service, subscriber = service_with_line(conn, interstellio, customer_id=customer)
    invoice = issued_invoice(conn, customer, invoice_date=date(2026, 3, 1))

    def at(day: date, hour: int) -> None:
        clock.move_to(datetime.combine(day, time(hour, 0)))

    try:
        # When it is debited on 5 March, returned with code 12 (account closed) on the 9th
        at(date(2026, 3, 2), 6)
        run_debit_orders(date(2026, 3, 2))
        (collection,) = collections_of(conn, invoice)
        netcash.debit_orders.settle(str(collection["id"]), "unpaid", day=date(2026, 3, 9), code="12")
        at(date(2026, 3, 10), 9)
        run_reconcile()
        # And no further debit is tried on the next mandated date
        at(date(2026, 3, 27), 6)
        run_debit_orders(date(2026, 3, 27))
        # And the overdue job runs in the grace period (nothing) and after it (suspension)
        at(date(2026, 3, 20), 7)
        assert run_overdue()["details"]["suspended"] == 0
        at(date(2026, 3, 23), 7)
        assert run_overdue()["details"]["suspended"] == 1
        # And the customer pays by EFT at noon: the line is back at once, the next morning's job has
        # nothing to reactivate
        at(date(2026, 3, 24), 12)
        _pay(conn, invoice, "699.00", date(2026, 3, 24))
        assert service_row(conn, service)["status"] == "active"
        at(date(2026, 3, 25), 7)
        assert run_overdue()["details"]["reactivated"] == 0
    finally:
        clock.reset()
    # Then: one failed collection (code 12, mandate blocked), suspension then reactivation by the system,
    # the invoice paid and the line enabled
    failed, eft = collections_of(conn, invoice)
    assert (failed["kind"], failed["status"], failed["failure_code"]) == ("collection", "failed", "12")
    assert (eft["kind"], eft["provider"], eft["status"]) == ("payment", "eft", "successful")
    assert conn.execute("select count(*) as n from mandate_collection_blocks").fetchone()["n"] == 1
    assert sorted(e["action"] for e in log_rows(conn, service)) == ["reactivate", "suspend"]
    assert invoice_row(conn, invoice)["status"] == "paid"
    assert service_row(conn, service)["status"] == "active"
    assert interstellio.subscribers[subscriber]["enabled"] is True
