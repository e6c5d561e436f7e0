"""Prompt reactivation after payment (issue 14): a manual payment or the reconciliation that leaves nothing
overdue past the grace period reactivates what the system suspended for non-payment, and only that, once the
payment has committed; a failure there leaves the payment standing for the daily enforce-overdue run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from isp_billing.lifecycle import actions as service_lifecycle
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
from tests.factories import admin_with_token, insert_customer
from tests.lifecycle_helpers import fake_interstellio_for_functions, log_rows, service_row, service_with_line


@pytest.fixture
def interstellio(clean_db: str) -> Iterator[fake_interstellio.FakeInterstellio]:
    with fake_interstellio_for_functions() as server:
        yield server


def _patches(fake: fake_interstellio.FakeInterstellio) -> list[Any]:
    return [call for call in fake.requests if call.method == "PATCH"]


def _suspended_for_non_payment(
    conn: psycopg.Connection, fake: fake_interstellio.FakeInterstellio, *, invoices: int = 1
) -> tuple[str, str, str, list[str]]:
    """A customer whose line the job suspended for an invoice overdue past the grace period:
    (customer, service, subscriber, invoice ids)."""
    customer = insert_customer(conn)
    service, subscriber = service_with_line(conn, fake, customer_id=customer)
    days_ago = [timedelta(days=30 + n) for n in range(invoices)]
    ids = [issued_invoice(conn, customer, invoice_date=date.today() - ago) for ago in days_ago]
    assert run_overdue(date.today())["details"]["suspended"] == 1
    fake.requests.clear()
    return customer, service, subscriber, ids


def test_an_eft_of_the_overdue_amount_reactivates_within_the_request(
    conn: psycopg.Connection, interstellio: fake_interstellio.FakeInterstellio
) -> None:
    # Given a line the system suspended for non-payment, and a second line an admin suspended (technical)
    customer, service, subscriber, (invoice,) = _suspended_for_non_payment(conn, interstellio)
    by_admin, admin_subscriber = service_with_line(conn, interstellio, customer_id=customer)
    admin_suspends(conn, by_admin)
    interstellio.requests.clear()
    # When the overdue amount is paid by EFT
    status, _, body = pay_by_eft(conn, invoice, "699.00")
    # Then right after the request the system's suspension is lifted (one PATCH enabling its subscriber,
    # audited as the system) and the admin's suspension stays
    assert status == 201 and body["invoice_status"] == "paid" and body["customer_id"] == customer
    assert service_row(conn, service)["status"] == "active"
    (patch,) = _patches(interstellio)
    assert subscriber in patch.path and patch.body == {"enabled": True}
    assert interstellio.subscribers[subscriber]["enabled"] is True
    assert [(e["action"], e["actor_type"]) for e in log_rows(conn, service)][-1] == ("reactivate", "system")
    assert service_row(conn, by_admin)["status"] == "suspended"
    assert interstellio.subscribers[admin_subscriber]["enabled"] is False
    # When the daily run follows / Then it has nothing left to reactivate and calls Interstellio no more
    assert run_overdue(date.today())["details"]["reactivated"] == 0
    assert len(_patches(interstellio)) == 1


def test_a_partial_payment_that_leaves_an_overdue_amount_reactivates_nothing(
    conn: psycopg.Connection, interstellio: fake_interstellio.FakeInterstellio
) -> None:
    # Given a suspended customer with two invoices overdue past the grace period
    _, service, subscriber, (first, _) = _suspended_for_non_payment(conn, interstellio, invoices=2)
    # When one of them is paid (and part of nothing else)
    status, _, body = pay_by_eft(conn, first, "699.00")
    # Then the payment is recorded, the line stays suspended and Interstellio is not called
    assert status == 201 and body["invoice_status"] == "paid"
    assert service_row(conn, service)["status"] == "suspended"
    assert _patches(interstellio) == [] and interstellio.subscribers[subscriber]["enabled"] is False


def test_a_replayed_payment_request_reactivates_nothing_twice(
    conn: psycopg.Connection, interstellio: fake_interstellio.FakeInterstellio
) -> None:
    # Given a suspended customer who pays the overdue amount with an Idempotency-Key
    _, service, _, (invoice,) = _suspended_for_non_payment(conn, interstellio)
    _, token = admin_with_token(conn, role="billing_admin")
    first = pay_by_eft(conn, invoice, "699.00", key="eft-1", token=token)
    # When the same request is retried
    again = pay_by_eft(conn, invoice, "699.00", key="eft-1", token=token)
    # Then the stored answer is replayed: one payment, one reactivation, one PATCH
    assert (first[0], again[0], again[1].get("idempotent-replayed")) == (201, 201, "true")
    assert len([t for t in collections_of(conn, invoice) if t["kind"] == "payment"]) == 1
    assert [e["action"] for e in log_rows(conn, service)].count("reactivate") == 1
    assert len(_patches(interstellio)) == 1


def test_a_crash_in_reactivation_keeps_the_payment_and_the_daily_run_reactivates(
    conn: psycopg.Connection,
    interstellio: fake_interstellio.FakeInterstellio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a suspended customer, and reactivation failing with an unexpected exception
    _, service, subscriber, (invoice,) = _suspended_for_non_payment(conn, interstellio)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("process died mid-reactivation")

    with monkeypatch.context() as patched:
        patched.setattr(service_lifecycle, "reactivate", crash)
        # When the overdue amount is paid
        status, _, body = pay_by_eft(conn, invoice, "699.00")
    # Then the payment stands (201, invoice paid) and the line is still suspended
    assert status == 201 and body["invoice_status"] == "paid"
    assert invoice_row(conn, invoice)["status"] == "paid"
    assert service_row(conn, service)["status"] == "suspended" and _patches(interstellio) == []
    # When the daily enforce-overdue run comes, twice / Then it reactivates the line once
    assert run_overdue(date.today())["details"]["reactivated"] == 1
    assert run_overdue(date.today())["details"]["reactivated"] == 0
    assert service_row(conn, service)["status"] == "active"
    assert interstellio.subscribers[subscriber]["enabled"] is True and len(_patches(interstellio)) == 1


@pytest.fixture
def netcash(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_netcash.FakeNetcash]:
    yield from netcash_for_jobs(monkeypatch)


def test_a_paid_debit_reactivates_in_the_same_reconciliation_run(
    conn: psycopg.Connection,
    interstellio: fake_interstellio.FakeInterstellio,
    netcash: fake_netcash.FakeNetcash,
) -> None:
    # Given a customer's invoice of 1 March, a line an admin suspended, and a line the system suspended
    # for non-payment on 23 March; the customer then turned on debit orders and was debited on the 26th
    # (a debit in flight is never a reason to suspend, so the suspension came first)
    customer, _ = debit_customer(conn, auto_pay=False)
    service, subscriber = service_with_line(conn, interstellio, customer_id=customer)
    by_admin, _ = service_with_line(conn, interstellio, customer_id=customer)
    admin_suspends(conn, by_admin)
    invoice = issued_invoice(conn, customer, invoice_date=date(2026, 3, 1))
    assert run_overdue(date(2026, 3, 23))["details"]["suspended"] == 1
    conn.execute("update customer_billing set auto_pay = true where customer_id = %s", (customer,))
    run_debit_orders(date(2026, 3, 23))
    (collection,) = collections_of(conn, invoice)
    interstellio.requests.clear()
    # When NetCash's statement shows the debit paid and reconciliation runs, twice
    netcash.debit_orders.settle(str(collection["id"]), "paid")
    first = run_reconcile(date(2026, 3, 27))
    conn.execute("delete from netcash_statement_days")
    second = run_reconcile(date(2026, 3, 27))
    # Then the first run reactivates the system's suspension (one PATCH), the second nothing
    assert invoice_row(conn, invoice)["status"] == "paid"
    assert (first["details"]["reactivated"], first["records_failed"]) == (1, 0)
    assert second["details"]["reactivated"] == 0
    assert service_row(conn, service)["status"] == "active"
    assert interstellio.subscribers[subscriber]["enabled"] is True and len(_patches(interstellio)) == 1
    assert service_row(conn, by_admin)["status"] == "suspended"
