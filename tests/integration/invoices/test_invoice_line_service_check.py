"""A line's service belongs to its invoice's customer, and a service a line names is never deleted: what the
dropped service_id foreign key kept (migration 20261203004000), now proved once per statement."""

from __future__ import annotations

import uuid
from datetime import date

import psycopg
import pytest

from isp_billing import db
from isp_billing.billing import run_sql as sql
from tests.factories import insert_customer, insert_service


def _draft_invoice(conn, customer: str) -> str:
    row = conn.execute(
        "insert into customer_invoices (customer_id, kind, invoice_date, due_date, subtotal, vat_rate,"
        " vat_amount, total_amount, status) values (%s, 'one_off', '2026-03-05', '2026-03-12', 0, 15, 0, 0,"
        " 'draft') returning id",
        (customer,),
    ).fetchone()
    return row["id"]


def _add_line(conn, invoice: str, service: str | None) -> None:
    conn.execute(
        "insert into invoice_line_items (invoice_id, service_id, kind, description, unit_amount, amount)"
        " values (%s, %s, 'adjustment', 'line', 1, 1)",
        (invoice, service),
    )


def test_a_line_may_name_only_a_service_of_its_invoices_customer(conn):
    # Given a draft invoice of one customer, that customer's service and another customer's service
    customer = insert_customer(conn)
    own = insert_service(conn, customer)
    foreign = insert_service(conn, insert_customer(conn))
    invoice = _draft_invoice(conn, customer)

    # When lines name the own service, no service, the foreign one and an unknown one
    _add_line(conn, invoice, own)
    _add_line(conn, invoice, None)
    for service in (foreign, str(uuid.uuid4())):
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            _add_line(conn, invoice, service)

    # Then only the first two were written
    count = conn.execute("select count(*) as n from invoice_line_items where invoice_id = %s", (invoice,))
    assert count.fetchone()["n"] == 2


def test_a_line_cannot_be_moved_to_another_customers_service(conn):
    # Given a draft invoice's line on the customer's own service
    customer = insert_customer(conn)
    invoice = _draft_invoice(conn, customer)
    _add_line(conn, invoice, insert_service(conn, customer))
    foreign = insert_service(conn, insert_customer(conn))

    # When it is updated to name another customer's service, then it is refused
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute(
            "update invoice_line_items set service_id = %s where invoice_id = %s", (foreign, invoice)
        )


def test_the_billing_runs_writes_refuse_a_foreign_service_and_write_nothing(conn, clean_db):
    # Given a customer and another customer's service
    customer = insert_customer(conn)
    foreign = insert_service(conn, insert_customer(conn))
    invoice = {
        "id": str(uuid.uuid4()),
        "customer_id": customer,
        "invoice_number": "INV-2026-09999",
        "invoice_date": date(2026, 3, 5),
        "due_date": date(2026, 3, 12),
        "period_start": date(2026, 3, 5),
        "period_end": date(2026, 4, 4),
        "subtotal": "607.83",
        "vat_rate": "15.00",
        "vat_amount": "91.17",
        "total_amount": "699.00",
        "billing_cycle_id": None,
    }
    line = {
        "id": str(uuid.uuid4()),
        "invoice_id": invoice["id"],
        "service_id": foreign,
        "kind": "recurring",
        "description": "Someone else's service",
        "amount": "699.00",
        "period_start": date(2026, 3, 5),
        "period_end": date(2026, 4, 4),
        "source": {},
        "line_key": f"charge:{foreign}:2026-03-05",
    }

    # When the run's own writes insert an issued invoice and a line of it naming that service
    with pytest.raises(psycopg.errors.ForeignKeyViolation), db.service_session() as runtime:
        sql.insert_invoices(runtime, [invoice])
        sql.insert_lines(runtime, [line])

    # Then the transaction wrote neither
    assert conn.execute("select count(*) as n from customer_invoices").fetchone()["n"] == 0
    assert conn.execute("select count(*) as n from invoice_line_items").fetchone()["n"] == 0


def test_a_service_named_by_a_line_cannot_be_deleted_and_one_never_invoiced_can(conn):
    # Given a service named by a line and a service named by none
    customer = insert_customer(conn)
    invoiced = insert_service(conn, customer)
    _add_line(conn, _draft_invoice(conn, customer), invoiced)
    never_invoiced = insert_service(conn, customer)

    # When both are deleted, then the invoiced one is refused and the other goes
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("delete from customer_services where id = %s", (invoiced,))
    conn.execute("delete from customer_services where id = %s", (never_invoiced,))
    remaining = conn.execute("select id from customer_services where customer_id = %s", (customer,))
    assert [row["id"] for row in remaining.fetchall()] == [uuid.UUID(str(invoiced))]
