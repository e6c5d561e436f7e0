"""Two customers with a row in every customer-facing table, and the internal rows the issue found exposed.

Customer A: an active service with an internal suspension note and an open fraud suspension; an issued
invoice awaiting collection (auto-pay), a draft and a void invoice, each with a line; an accepted debit
order (primary, their only live one) and a declined one; a failed collection; a day of usage; a billing
cycle. Customer B: the same shape, smaller. Plus packages (one retired), a declared holiday and B's
idempotency key in progress.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg

from tests.factories import insert_customer, insert_package, insert_service


@dataclass
class Customer:
    auth_user_id: str
    customer_id: str
    service_id: str
    rows: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class World:
    a: Customer
    b: Customer
    ids: dict[str, str] = field(default_factory=dict)


def _one(conn: psycopg.Connection, statement: str, params: tuple[Any, ...]) -> str:
    row = conn.execute(statement, params).fetchone()
    assert row is not None
    return str(row["id"])


_LINE = """
    insert into invoice_line_items (invoice_id, service_id, kind, description, unit_amount, amount, source)
    values (%s, %s, 'recurring', 'Fibre 50/50', 699.00, 699.00, '{"rule": "internal"}')
"""


def _invoice(conn: psycopg.Connection, customer_id: str, service_id: str, status: str) -> str:
    """An invoice with one line: created as a draft (lines may only be added then), then moved to `status`."""
    invoice_id = _one(
        conn,
        "insert into customer_invoices (customer_id, kind, invoice_date, due_date, subtotal, vat_rate,"
        " vat_amount, total_amount, status) values (%s, 'one_off', current_date, current_date + 7,"
        " 607.83, 15, 91.17, 699.00, 'draft') returning id",
        (customer_id,),
    )
    conn.execute(_LINE, (invoice_id, service_id))
    if status != "draft":
        conn.execute("update customer_invoices set status = %s where id = %s", (status, invoice_id))
    return invoice_id


def _debit_order(conn: psycopg.Connection, customer_id: str, *, status: str, primary: bool) -> str:
    method_id = str(uuid.uuid4())
    conn.execute(
        "insert into customer_payment_methods (id, customer_id, method_type, display_name, is_primary,"
        " bank_name, branch_code, account_type, account_number_masked, account_holder, mandate_reference,"
        " mandate_status, mandate_amount, mandate_url) values (%s, %s, 'debit_order', 'Cheque', %s, 'FNB',"
        " '250655', 'cheque', '****1234', 'T Nkosi', %s, %s, 699.00, 'https://netcash.example/sign')",
        (method_id, customer_id, primary, method_id, status),
    )
    return method_id


def _customer(conn: psycopg.Connection, package_id: str) -> Customer:
    auth_user_id = str(uuid.uuid4())
    customer_id = insert_customer(conn, auth_user_id=auth_user_id, is_test=False)
    service_id = insert_service(
        conn, customer_id, package_id=package_id, interstellio_subscriber_id=f"sub-{uuid.uuid4().hex[:8]}"
    )
    conn.execute("update customer_billing set auto_pay = true where customer_id = %s", (customer_id,))
    customer = Customer(auth_user_id, customer_id, service_id)
    customer.rows["suspension_with_notes"] = [
        _one(
            conn,
            "insert into service_suspensions (service_id, customer_id, suspension_type, reason, notes,"
            " suspended_at, reactivated_at) values (%s, %s, 'non_payment', 'Overdue 30 days',"
            " 'Internal: customer rude on the phone; do not waive fees', now() - interval '20 days',"
            " now() - interval '10 days') returning id",
            (service_id, customer_id),
        )
    ]
    customer.rows["issued_invoice"] = [_invoice(conn, customer_id, service_id, "issued")]
    customer.rows["accepted_debit_order"] = [_debit_order(conn, customer_id, status="accepted", primary=True)]
    conn.execute(
        "insert into payment_transactions (customer_id, invoice_id, payment_method_id, amount, kind, status,"
        " provider, provider_reference, batch_reference, failure_code, failure_reason, provider_response)"
        " values (%s, %s, %s, 699.00, 'collection', 'failed', 'netcash', %s, 'BATCH-1', '02',"
        " 'Not provided for', '{\"raw\": \"internal\"}')",
        (
            customer_id,
            customer.rows["issued_invoice"][0],
            customer.rows["accepted_debit_order"][0],
            uuid.uuid4().hex,
        ),
    )
    conn.execute(
        "insert into usage_history (customer_id, service_id, usage_date, upload_mb, download_mb, source,"
        " synced_at) values (%s, %s, current_date - 1, 10.5, 200.25, 'interstellio', now())",
        (customer_id, service_id),
    )
    conn.execute(
        "insert into billing_cycles (customer_id, period_start, period_end, billing_date, status)"
        " values (%s, date_trunc('month', current_date)::date,"
        " (date_trunc('month', current_date) + interval '1 month - 1 day')::date,"
        " date_trunc('month', current_date)::date, 'skipped')",
        (customer_id,),
    )
    return customer


def build_world(conn: psycopg.Connection) -> World:
    package_id = insert_package(conn)
    retired_package_id = insert_package(conn, is_active=False)
    a = _customer(conn, package_id)
    b = _customer(conn, package_id)
    a.rows["fraud_suspension"] = [
        _one(
            conn,
            "insert into service_suspensions (service_id, customer_id, suspension_type, reason, notes)"
            " values (%s, %s, 'fraud', 'Chargebacks on three cards', 'Internal: police case 123')"
            " returning id",
            (a.service_id, a.customer_id),
        )
    ]
    a.rows["draft_invoice"] = [_invoice(conn, a.customer_id, a.service_id, "draft")]
    a.rows["void_invoice"] = [_invoice(conn, a.customer_id, a.service_id, "void")]
    a.rows["declined_debit_order"] = [_debit_order(conn, a.customer_id, status="declined", primary=False)]
    conn.execute(
        "insert into declared_public_holidays (holiday_date, name) values ('2026-12-28', 'Declared')"
    )
    conn.execute(
        "insert into idempotency_keys (scope, key, request_hash, customer_id)"
        " values (%s, 'their-key', 'scrypt$x', %s)",
        (f"POST /api/customer/payment-methods:{b.customer_id}", b.customer_id),
    )
    return World(a, b, {"package": package_id, "retired_package": retired_package_id})
