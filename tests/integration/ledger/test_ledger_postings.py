"""The ledger's postings on the real database as the runtime role: a payment on a written-off invoice, a
payment received twice (a re-read statement), two payments on one invoice at the same moment, and the rows
that nobody may change."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest

from isp_billing import db
from isp_billing.clock import sast_today
from isp_billing.ledger import postings
from isp_billing.money import vat_from_inclusive
from tests.factories import insert_customer


def _invoice(conn: psycopg.Connection, customer: str, total: str = "699.00") -> UUID:
    amount = Decimal(total)
    vat = vat_from_inclusive(amount, Decimal("15"))
    today = sast_today()
    row = conn.execute(
        """
        insert into customer_invoices (customer_id, kind, invoice_date, due_date, subtotal, vat_rate,
                                       vat_amount, total_amount, status)
        values (%s, 'one_off', %s, %s, %s, 15, %s, %s, 'issued') returning id
        """,
        (customer, today, today + timedelta(days=7), amount - vat, vat, amount),
    ).fetchone()
    return UUID(str(row["id"]))


def _transaction(
    conn: psycopg.Connection, customer: str, invoice: UUID, amount: str, *, debit: bool = False
) -> UUID:
    """A successful payment: a debit-order collection (one per invoice), else an EFT."""
    kind, provider = ("collection", "netcash") if debit else ("payment", "eft")
    row = conn.execute(
        "insert into payment_transactions (customer_id, invoice_id, amount, kind, status, provider,"
        " processed_at) values (%s, %s, %s, %s, 'successful', %s, now()) returning id",
        (customer, invoice, amount, kind, provider),
    ).fetchone()
    return UUID(str(row["id"]))


def _received(customer: str, invoice: UUID, transaction: UUID, amount: str) -> list[Any]:
    with db.service_session() as session:
        return postings.receive_payments(
            session,
            [
                {
                    "transaction_id": transaction,
                    "customer_id": UUID(customer),
                    "invoice_id": invoice,
                    "amount": Decimal(amount),
                    "entry_date": sast_today(),
                }
            ],
            sast_today(),
        )


def _row(conn: psycopg.Connection, invoice: UUID) -> dict[str, Any]:
    return conn.execute("select * from customer_invoices where id = %s", (invoice,)).fetchone()


def test_a_debit_landing_on_a_written_off_invoice_reverses_the_write_off_as_far_as_it_pays(conn) -> None:
    # Given an R699 invoice written off
    customer = insert_customer(conn)
    invoice = _invoice(conn, customer)
    with db.service_session() as session:
        postings.write_off(
            session,
            customer_id=UUID(customer),
            invoice_id=invoice,
            amount=Decimal("699.00"),
            today=sast_today(),
        )
    assert (_row(conn, invoice)["status"], _row(conn, invoice)["amount_written_off"]) == (
        "written_off",
        Decimal("699.00"),
    )
    # When a R200 debit lands on it, then an R499 EFT
    _received(customer, invoice, _transaction(conn, customer, invoice, "200.00", debit=True), "200.00")
    part = _row(conn, invoice)
    _received(customer, invoice, _transaction(conn, customer, invoice, "499.00"), "499.00")
    # Then the write-off shrinks by what was paid; once all is paid the invoice is paid, nothing written off
    assert (part["status"], part["amount_paid"], part["amount_written_off"]) == (
        "written_off",
        Decimal("200.00"),
        Decimal("499.00"),
    )
    paid = _row(conn, invoice)
    assert (paid["status"], paid["amount_paid"], paid["amount_written_off"]) == (
        "paid",
        Decimal("699.00"),
        None,
    )


def test_a_payment_received_twice_is_one_receipt(conn) -> None:
    # Given a paid debit that was received into the ledger
    customer = insert_customer(conn)
    invoice = _invoice(conn, customer)
    transaction = _transaction(conn, customer, invoice, "699.00")
    (first,) = _received(customer, invoice, transaction, "699.00")
    # When the same payment is received again (a statement read twice)
    again = _received(customer, invoice, transaction, "699.00")
    # Then nothing more is written: one receipt, no credit
    assert first.applied == Decimal("699.00") and again == []
    rows = conn.execute("select kind from ledger_entries where customer_id = %s order by kind", (customer,))
    assert [row["kind"] for row in rows] == ["allocation", "receipt"]
    assert conn.execute(
        "select credit_balance from customer_billing where customer_id = %s", (customer,)
    ).fetchone()["credit_balance"] == Decimal("0.00")


def test_two_payments_on_one_invoice_at_the_same_moment_never_over_allocate_it(conn) -> None:
    # Given an R699 invoice and two R500 payments arriving at once on separate connections
    customer = insert_customer(conn)
    invoice = _invoice(conn, customer)
    transactions = [_transaction(conn, customer, invoice, "500.00") for _ in range(2)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def pay(transaction: UUID) -> None:
        try:
            start.wait()
            _received(customer, invoice, transaction, "500.00")
        except BaseException as error:  # reported below, in the test thread
            errors.append(error)

    threads = [threading.Thread(target=pay, args=(t,)) for t in transactions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then both are received, R699 pays the invoice and R301 is credit: nothing lost, nothing twice
    assert errors == []
    row = _row(conn, invoice)
    assert (row["status"], row["amount_paid"]) == ("paid", Decimal("699.00"))
    assert conn.execute(
        "select credit_balance from customer_billing where customer_id = %s", (customer,)
    ).fetchone()["credit_balance"] == Decimal("301.00")


def test_ledger_rows_cannot_be_changed_or_removed(conn) -> None:
    # Given a receipt in the ledger
    customer = insert_customer(conn)
    invoice = _invoice(conn, customer)
    _received(customer, invoice, _transaction(conn, customer, invoice, "100.00"), "100.00")
    # When anyone, a superuser too, tries to change or delete it / Then it is refused
    for statement in ("update ledger_entries set amount = 1", "delete from ledger_entries"):
        with pytest.raises(psycopg.Error):
            conn.execute(statement)
