"""`serve --demo` as a user runs it: the demo customer adds a debit order, opens the mandate page of the fake
NetCash started by serve, presses Sign, and the postback reaches the local API's webhook."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.demo_server import DemoServer, demo_server


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with demo_server("ispb-e2e-mandate-") as running:
        yield running


def test_the_demo_customer_signs_a_debit_order_mandate_in_the_browser(server: DemoServer) -> None:
    headers = {"Authorization": f"Bearer {server.values['CUSTOMER_TOKEN']}"}
    # Given the demo customer added a debit order, pending until the mandate is signed
    added = httpx.post(
        server.base + "/api/customer/payment-methods",
        headers=headers,
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
    method = added.json()
    assert method["mandate_status"] == "pending" and method["is_collectable"] is False
    # When they open the mandate page and press Sign (the form posts back to the fake)
    page = httpx.get(method["mandate_url"], timeout=10)
    assert page.status_code == 200 and "awaiting your signature" in page.text
    assert re.search(r"<form method='post'>.*value='accepted'>Sign</button>", page.text)
    signed = httpx.post(method["mandate_url"], data={"outcome": "accepted"}, timeout=60)
    # Then the page confirms, NetCash's postback reached the local API, and the method is accepted
    assert signed.status_code == 200 and "<b id='status'>signed</b>" in signed.text
    assert "notified the merchant (HTTP 200)" in signed.text
    methods = httpx.get(server.base + "/api/customer/payment-methods", headers=headers, timeout=30).json()
    [after] = [m for m in methods if m["id"] == method["id"]]
    assert after["mandate_status"] == "accepted" and after["is_collectable"] is True
    assert after["mandate_signed_at"] is not None and after["mandate_url"] is None
    # And the page no longer offers the buttons
    assert "<form" not in httpx.get(method["mandate_url"], timeout=10).text
