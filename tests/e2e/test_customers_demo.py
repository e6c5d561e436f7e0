"""`serve --demo` as a new user runs it: with the printed admin token, sign a customer up, find them, open
their account and change their debit day, over real HTTP (the README's curl commands)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.demo_server import DemoServer, demo_server


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with demo_server("ispb-e2e-customers-") as running:
        yield running


def test_the_demo_admin_creates_finds_and_opens_a_customer(server: DemoServer) -> None:
    admin = server.values["ADMIN_TOKEN"]
    # Given the demo's printed admin token
    # When a walk-in business customer is signed up
    created = httpx.post(
        f"{server.base}/api/admin/customers",
        headers={"authorization": f"Bearer {admin}", "Idempotency-Key": "walk-in-1"},
        json={
            "customer_type": "business",
            "first_name": "Thabo",
            "last_name": "Mokoena",
            "email": "accounts@mokoena-logistics.co.za",
            "phone": "082 123 4567",
            "company_name": "Mokoena Logistics (Pty) Ltd",
            "vat_number": "4123456789",
            "billing": {"billing_day": 25, "auto_pay": True, "debit_day": 26},
        },
        timeout=30,
    )
    assert created.status_code == 201, created.text
    customer = created.json()
    # Then a search by name finds them
    found = server.get("/api/admin/customers?name=mokoena%20thabo", admin)
    assert found.status_code == 200 and [c["id"] for c in found.json()["items"]] == [customer["id"]]
    # And their account opens, with the creation on its timeline
    account = server.get(f"/api/admin/customers/{customer['id']}", admin).json()
    assert account["account_number"] == customer["account_number"] and account["balance_owed"] == "0.00"
    assert [t["action"] for t in account["timeline"]] == ["create"]
    # And the debit day can be moved
    changed = httpx.patch(
        f"{server.base}/api/admin/customers/{customer['id']}/billing",
        headers={"authorization": f"Bearer {admin}"},
        json={"debit_day": 1},
        timeout=30,
    )
    assert changed.status_code == 200 and changed.json()["debit_day"] == 1
