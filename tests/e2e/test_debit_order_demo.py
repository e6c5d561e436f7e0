"""`serve --demo`: the demo customer signs a debit-order mandate, the debit-order run debits their invoice
at the fake NetCash, and the reconciliation settles it from the fake statement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest

from tests.e2e.demo_server import DemoServer, demo_server


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with demo_server("ispb-e2e-debit-") as running:
        yield running


def test_the_demo_customers_signed_mandate_is_debited_and_settled(server: DemoServer) -> None:
    customer = {"Authorization": f"Bearer {server.values['CUSTOMER_TOKEN']}"}
    cron = {"Authorization": f"Bearer {server.values['CRON_SECRET']}"}
    # Given the demo customer adds a debit order and signs its mandate on the fake NetCash page
    added = httpx.post(
        server.base + "/api/customer/payment-methods",
        headers=customer,
        json={
            "method_type": "debit_order",
            "bank_name": "Capitec",
            "branch_code": "470010",
            "account_type": "savings",
            "account_number": "1234567891",
            "account_holder": "T Mokoena",
        },
        timeout=30,
    )
    assert added.status_code == 201, added.text
    signed = httpx.post(added.json()["mandate_url"], data={"outcome": "accepted"}, timeout=60)
    assert signed.status_code == 200 and "signed" in signed.text
    # When the debit-order run runs (on the next business day at the latest)
    run = httpx.post(server.base + "/api/cron/process-debit-orders", headers=cron, json={}, timeout=120)
    assert run.status_code == 200, run.text
    details = run.json()["details"]
    if details.get("business_day") is False:  # a weekend or holiday: run as the next weekday would
        day = date.fromisoformat(details["run_date"])
        while True:
            day += timedelta(days=1)
            run = httpx.post(
                server.base + "/api/cron/process-debit-orders",
                headers=cron,
                json={"run_date": day.isoformat()},
                timeout=120,
            )
            details = run.json()["details"]
            if details.get("business_day") is not False:
                break
    assert details["batch_status"] == "authorised" and details["collections"] == 1, details
    # And the reconciliation reads the statement the day after the action date
    after = date.fromisoformat(details["action_date"]) + timedelta(days=1)
    settled = httpx.post(
        server.base + "/api/cron/reconcile-payments",
        headers=cron,
        json={"run_date": after.isoformat()},
        timeout=120,
    )
    assert settled.status_code == 200, settled.text
    # Then the customer sees a successful debit order for the invoice
    payments = httpx.get(server.base + "/api/customer/payments", headers=customer, timeout=30).json()["items"]
    assert [(p["method"], p["status"], p["amount"]) for p in payments] == [
        ("debit_order", "successful", "699.00")
    ]
