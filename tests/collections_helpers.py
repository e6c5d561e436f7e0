"""Helpers for collections tests: debit-order customers with a signed mandate, issued invoices, job runs,
manual payments and an admin's suspension through their routes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from isp_billing.money import vat_from_inclusive
from isp_billing_cli.events import LambdaContext
from isp_billing_cli.fakes import netcash as fake_netcash
from isp_billing_cli.template import function_by_id
from tests.events import call_api
from tests.factories import admin_with_token, insert_customer
from tests.netcash_env import running_fake


def debit_customer(
    conn: psycopg.Connection,
    *,
    debit_day: int = 1,
    mandate_amount: str = "1000.00",
    auto_pay: bool = True,
    **customer: Any,
) -> tuple[str, str]:
    """A customer paying by debit order with an accepted primary mandate: (customer id, payment method id)."""
    customer_id = insert_customer(conn, **customer)
    conn.execute(
        "update customer_billing set auto_pay = %s, debit_day = %s where customer_id = %s",
        (auto_pay, debit_day, customer_id),
    )
    row = conn.execute(
        """
        insert into customer_payment_methods (customer_id, method_type, is_primary, bank_name, branch_code,
                                              account_type, account_number_masked, account_holder,
                                              mandate_reference, mandate_status, mandate_amount,
                                              mandate_signed_at)
        values (%s, 'debit_order', true, 'Capitec', '470010', 'cheque', '****1234', 'Test Holder',
                gen_random_uuid()::text, 'accepted', %s, now())
        returning id
        """,
        (customer_id, mandate_amount),
    ).fetchone()
    assert row is not None
    return customer_id, str(row["id"])


def issued_invoice(
    conn: psycopg.Connection, customer_id: str, *, total: str = "699.00", invoice_date: date, terms: int = 7
) -> str:
    amount = Decimal(total)
    vat = vat_from_inclusive(amount, Decimal("15"))
    row = conn.execute(
        """
        insert into customer_invoices (customer_id, kind, invoice_date, due_date, period_start, period_end,
                                       subtotal, vat_rate, vat_amount, total_amount, status)
        values (%s, 'one_off', %s, %s, %s, %s, %s, 15, %s, %s, 'issued') returning id
        """,
        (
            customer_id,
            invoice_date,
            invoice_date + timedelta(days=terms),
            invoice_date,
            invoice_date + timedelta(days=30),
            amount - vat,
            vat,
            amount,
        ),
    ).fetchone()
    assert row is not None
    return str(row["id"])


def run_job(function_id: str, **options: Any) -> dict[str, Any]:
    """A direct invoke of the job's function (the CLI's `invoke`)."""
    body = {key: (value.isoformat() if isinstance(value, date) else value) for key, value in options.items()}
    return function_by_id(function_id).load_handler()(body, LambdaContext(function_id))


def run_debit_orders(run_date: date, **options: Any) -> dict[str, Any]:
    return run_job("ProcessDebitOrdersFunction", run_date=run_date, **options)


def collections_of(conn: psycopg.Connection, invoice_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        "select * from payment_transactions where invoice_id = %s order by created_at, attempt_number",
        (invoice_id,),
    ).fetchall()


def netcash_for_jobs(monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_netcash.FakeNetcash]:
    """The fake NetCash with settings pointed at it and no waiting between load-report polls."""
    monkeypatch.setenv("DEBIT_ORDER_REPORT_POLL_SECONDS", "0")
    yield from running_fake(monkeypatch)


def run_reconcile(run_date: date | None = None) -> dict[str, Any]:
    return run_job("ReconcilePaymentsFunction", **({"run_date": run_date} if run_date else {}))


def invoice_row(conn: psycopg.Connection, invoice_id: str) -> dict[str, Any]:
    row = conn.execute("select * from customer_invoices where id = %s", (invoice_id,)).fetchone()
    assert row is not None
    return row


def run_overdue(run_date: date | None = None) -> dict[str, Any]:
    return run_job("EnforceOverdueFunction", **({"run_date": run_date} if run_date else {}))


def pay_by_eft(
    conn: psycopg.Connection,
    invoice_id: str,
    amount: str,
    day: date | None = None,
    *,
    key: str | None = None,
    token: str | None = None,
) -> tuple[int, dict[str, str], Any]:
    """POST an EFT on the invoice as a billing admin (a new one unless `token`): (status, headers, body)."""
    token = token or admin_with_token(conn, role="billing_admin")[1]
    return call_api(
        "AdminInvoicePaymentCreateFunction",
        "POST",
        f"/api/admin/invoices/{invoice_id}/payments",
        token=token,
        headers={"idempotency-key": key} if key else None,
        body={
            "method": "eft",
            "amount": amount,
            "payment_date": str(day or date.today()),
            "bank_reference": "EFT",
        },
    )


def admin_suspends(conn: psycopg.Connection, service_id: str) -> None:
    """A support admin suspends the service (technical): a suspension the system must never lift."""
    _, token = admin_with_token(conn, role="support")
    status, _, body = call_api(
        "AdminServiceSuspendFunction",
        "POST",
        f"/api/admin/services/{service_id}/suspend",
        token=token,
        body={"reason": "Router fault", "suspension_type": "technical"},
    )
    assert status in (200, 202), body
