"""payment_transactions without the single-column invoice and method keys (20261202006300): the composite
keys with the NOT NULL customer_id still refuse an unknown or another customer's invoice or method, and
still refuse deleting a method a payment names. Without the customer key (20261203003000): a row naming
neither an invoice nor a method still needs an existing customer, and a customer a payment names still cannot
be deleted."""

from __future__ import annotations

import uuid
from datetime import date

import psycopg
import pytest
from psycopg import errors

from tests.collections_helpers import debit_customer, issued_invoice

_INSERT = (
    "insert into payment_transactions (customer_id, invoice_id, payment_method_id, amount, kind, status,"
    " provider) values (%s, %s, %s, 699.00, 'collection', 'pending', 'netcash')"
)


@pytest.mark.parametrize("wrong", ["unknown_invoice", "foreign_invoice", "unknown_method", "foreign_method"])
def test_a_payment_naming_an_unknown_or_foreign_invoice_or_method_is_refused(
    conn: psycopg.Connection, wrong: str
) -> None:
    # Given two debit-order customers, each with an issued invoice
    customer, method = debit_customer(conn)
    other, other_method = debit_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=date(2026, 3, 1))
    other_invoice = issued_invoice(conn, other, invoice_date=date(2026, 3, 1))
    invoice_id, method_id = {
        "unknown_invoice": (str(uuid.uuid4()), method),
        "foreign_invoice": (other_invoice, method),
        "unknown_method": (invoice, str(uuid.uuid4())),
        "foreign_method": (invoice, other_method),
    }[wrong]

    # When a payment of the first customer names the wrong invoice or method
    # Then the database refuses it
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute(_INSERT, (customer, invoice_id, method_id))


def test_a_payment_method_a_payment_names_cannot_be_deleted(conn: psycopg.Connection) -> None:
    # Given a payment on an invoice by a mandate (issued invoices are guarded by their own trigger too)
    customer, method = debit_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=date(2026, 3, 1))
    conn.execute(_INSERT, (customer, invoice, method))
    # (and the payment is right: it was accepted)
    assert conn.execute("select count(*) as n from payment_transactions").fetchone()["n"] == 1

    # When the payment method is deleted
    # Then the composite key refuses it (ON DELETE RESTRICT)
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute("delete from customer_payment_methods where id = %s", (method,))


_BARE = (
    "insert into payment_transactions (customer_id, amount, kind, status, provider)"
    " values (%s, 50.00, 'refund', 'pending', 'eft')"
)


def test_a_payment_naming_no_invoice_or_method_needs_an_existing_customer(conn: psycopg.Connection) -> None:
    # Given a customer
    customer, _ = debit_customer(conn)
    # When a refund naming no invoice or method is recorded for them, and one for an unknown customer
    conn.execute(_BARE, (customer,))
    # Then the first is accepted and the second refused as a key violation
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute(_BARE, (str(uuid.uuid4()),))


def test_moving_a_bare_payment_to_an_unknown_customer_is_refused(conn: psycopg.Connection) -> None:
    # Given a refund naming no invoice or method
    customer, _ = debit_customer(conn)
    conn.execute(_BARE, (customer,))
    # When it is moved to an unknown customer
    # Then the database refuses it
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute("update payment_transactions set customer_id = %s", (str(uuid.uuid4()),))


@pytest.mark.parametrize("names", ["invoice", "nothing"])
def test_a_customer_a_payment_names_cannot_be_deleted(conn: psycopg.Connection, names: str) -> None:
    # Given a customer with a payment (on an invoice, or naming nothing else)
    customer, method = debit_customer(conn)
    if names == "invoice":
        invoice = issued_invoice(conn, customer, invoice_date=date(2026, 3, 1))
        conn.execute(_INSERT, (customer, invoice, method))
    else:
        conn.execute(_BARE, (customer,))
    # When the customer is deleted
    # Then the payments' delete guard refuses it (a BEFORE trigger: it speaks before any other key)
    with pytest.raises(errors.ForeignKeyViolation, match="has payments"):
        conn.execute("delete from customers where id = %s", (customer,))
