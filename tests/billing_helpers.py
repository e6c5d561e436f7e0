"""Helpers for billing-run tests: customers with a billing day, runs at a given date, what was written."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg

from isp_billing_cli.events import LambdaContext
from isp_billing_cli.template import function_by_id
from tests.factories import insert_customer, insert_service
from tests.ledger_helpers import hold_credit


def billed_customer(
    conn: psycopg.Connection,
    *,
    billing_day: int = 25,
    credit: str = "0.00",
    services: list[dict] | None = None,
    **customer: Any,
) -> tuple[str, list[str]]:
    """A customer with a billing day and services (each a dict of insert_service keyword arguments)."""
    customer_id = insert_customer(conn, **customer)
    conn.execute(
        "update customer_billing set billing_day = %s where customer_id = %s", (billing_day, customer_id)
    )
    hold_credit(conn, customer_id, credit)
    service_ids = [
        insert_service(conn, customer_id, **spec) for spec in ([{}] if services is None else services)
    ]
    return customer_id, service_ids


def run_billing(run_date: date | None = None, dry_run: bool = False) -> dict[str, Any]:
    """A direct invoke of GenerateInvoicesFunction (the CLI's `invoke`): the job's own plan and chunk path."""
    options: dict[str, Any] = {"dry_run": dry_run} if dry_run else {}
    if run_date is not None:
        options["run_date"] = run_date.isoformat()
    handler = function_by_id("GenerateInvoicesFunction").load_handler()
    return handler(options, LambdaContext("GenerateInvoicesFunction"))


def invoices_of(conn: psycopg.Connection, customer_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        "select * from customer_invoices where customer_id = %s order by period_start", (customer_id,)
    ).fetchall()


def lines_of(conn: psycopg.Connection, invoice_id: Any) -> list[tuple[str, str]]:
    rows = conn.execute(
        "select kind, amount from invoice_line_items where invoice_id = %s order by amount desc, kind",
        (invoice_id,),
    ).fetchall()
    return [(row["kind"], f"{row['amount']:.2f}") for row in rows]


def table_counts(conn: psycopg.Connection) -> dict[str, int]:
    tables = (
        "customer_invoices",
        "invoice_line_items",
        "billing_cycles",
        "validation_errors",
        "number_counters",
    )
    return {t: conn.execute(f"select count(*) as n from {t}").fetchone()["n"] for t in tables}
