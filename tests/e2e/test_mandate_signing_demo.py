"""`serve --demo` as a user runs it: the demo customer adds a debit order, opens the mandate page of the fake
NetCash started by serve, presses Sign, and the postback reaches the local API's webhook."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CLI = str(Path(sys.executable).parent / "isp-billing")


class DemoServer:
    def __init__(self, data_dir: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DATABASE_URL", "JWT_SECRET", "STAGE", "CRON_SECRET")
            and not key.startswith(("NETCASH", "INTERSTELLIO"))
        }
        env["ISP_BILLING_DATA_DIR"] = data_dir
        self.process = subprocess.Popen(
            [CLI, "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.values: dict[str, str] = {}
        assert self.process.stdout is not None
        for line in self.process.stdout:
            key, sep, value = line.strip().partition("=")
            if sep and key.endswith("_TOKEN"):
                self.values[key] = value
            if line.startswith("ready in"):
                break
        else:
            raise AssertionError(f"serve exited with {self.process.wait()}")
        # Keep reading the server's log so a full pipe never blocks it.
        threading.Thread(target=lambda: [None for _ in self.process.stdout or []], daemon=True).start()
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base + "/openapi.json")
                break
            except httpx.ConnectError:
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(20)


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    folder = tempfile.mkdtemp(prefix="ispb-e2e-mandate-")
    running = DemoServer(folder)
    yield running
    running.stop()
    shutil.rmtree(folder, ignore_errors=True)


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
