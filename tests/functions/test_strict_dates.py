"""Dates and instants are ISO 8601 strings only, in queries, bodies and job options: a number (or a string of
digits) is never read as a Unix timestamp. Each case here was answered as 1970 before (200, a billing run
for 1970-01-01, a charge due 1970-01-02)."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_CRON_SECRET
from tests.events import call_api
from tests.factories import admin_with_token, insert_customer


def _count(conn, table: str) -> int:
    return conn.execute(f"select count(*) as n from {table}").fetchone()["n"]


@pytest.mark.parametrize("value", ["0", "86400", "20261201", "2026-12-1"])
def test_a_number_as_a_query_date_is_422(conn, value):
    # Given a billing admin
    _, token = admin_with_token(conn, role="billing_admin")
    # When the invoice list is filtered with a date that is not YYYY-MM-DD
    status, _, problem = call_api(
        "AdminInvoicesListFunction", "GET", "/api/admin/invoices", token=token, query=f"date_to={value}"
    )
    # Then it is refused, naming the parameter and the rule
    assert status == 422
    assert problem["errors"][0]["loc"] == ["query", "date_to"]
    assert "ISO 8601" in problem["errors"][0]["msg"]


def test_an_iso_query_date_is_still_read(conn):
    _, token = admin_with_token(conn, role="billing_admin")
    status, _, _ = call_api(
        "AdminInvoicesListFunction", "GET", "/api/admin/invoices", token=token, query="date_to=2026-12-01"
    )
    assert status == 200


@pytest.mark.parametrize("run_date", ["0", 0, 86400])
def test_a_number_as_a_job_run_date_is_422_and_no_run_starts(conn, run_date):
    # Given no billing run logged
    runs = _count(conn, "cron_execution_log")
    # When the billing run is started by hand for run_date "0"
    status, _, problem = call_api(
        "GenerateInvoicesFunction",
        "POST",
        "/api/cron/generate-invoices",
        token=TEST_CRON_SECRET,
        body={"run_date": run_date},
    )
    # Then it is refused before anything is logged or billed
    assert status == 422, problem
    assert _count(conn, "cron_execution_log") == runs
    assert _count(conn, "customer_invoices") == 0


@pytest.mark.parametrize("due_date", [86400, "86400", 0])
def test_a_number_as_a_charge_due_date_is_422_and_nothing_is_stored(conn, due_date):
    # Given a customer and a billing admin
    customer_id = insert_customer(conn)
    _, token = admin_with_token(conn, role="billing_admin")
    # When a once-off charge is added with a Unix timestamp as its due date
    status, _, problem = call_api(
        "AdminCustomerChargesCreateFunction",
        "POST",
        f"/api/admin/customers/{customer_id}/charges",
        token=token,
        body={"kind": "equipment", "description": "Router", "amount": "499.00", "due_date": due_date},
    )
    # Then it is refused, naming due_date, and no charge is stored
    assert status == 422, problem
    assert ["body", "due_date"] in [error["loc"] for error in problem["errors"]]
    assert _count(conn, "customer_charges") == 0
