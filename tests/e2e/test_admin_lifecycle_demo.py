"""`serve --demo` as a user runs it: the demo admin suspends and reactivates a demo service over HTTP,
the fake Interstellio started by serve follows, and the audit log tells the story."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from isp_billing_cli.fakes import interstellio as fake_interstellio

CLI = str(Path(sys.executable).parent / "isp-billing")
SERVICE = "30000000-0000-4000-8000-000000000001"  # Thandi's fibre, Interstellio subscriber sub-thandi-1
SUBSCRIBER = "sub-thandi-1"


class DemoServer:
    def __init__(self, data_dir: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DATABASE_URL", "JWT_SECRET", "STAGE", "CRON_SECRET")
            and not key.startswith("INTERSTELLIO")
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
            found = re.search(r"fake Interstellio on (\S+)", line)
            if found:
                self.values["INTERSTELLIO_URL"] = found.group(1)
            key, sep, value = line.strip().partition("=")
            if sep and key.endswith("_TOKEN"):
                self.values[key] = value
            if line.startswith("ready in"):
                break
        else:
            raise AssertionError(f"serve exited with {self.process.wait()}")
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base + "/openapi.json")
                break
            except httpx.ConnectError:
                time.sleep(0.05)

    def post(self, path: str, token: str, body: dict) -> httpx.Response:
        return httpx.post(
            self.base + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def get(self, path: str, token: str) -> httpx.Response:
        return httpx.get(self.base + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def line_enabled(self) -> bool:
        fake = self.values["INTERSTELLIO_URL"]
        token = httpx.post(
            f"{fake}/v3/token",
            json={
                "domain": fake_interstellio.DEFAULT_DOMAIN,
                "username": fake_interstellio.DEFAULT_USERNAME,
                "password": fake_interstellio.DEFAULT_PASSWORD,
            },
        ).json()["token"]
        return bool(
            httpx.get(f"{fake}/v1/subscriber/{SUBSCRIBER}", headers={"X-Auth-Token": token}).json()["enabled"]
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(20)


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    folder = tempfile.mkdtemp(prefix="ispb-e2e-lifecycle-")
    running = DemoServer(folder)
    yield running
    running.stop()
    shutil.rmtree(folder, ignore_errors=True)


def test_the_demo_admin_suspends_reactivates_and_reads_the_audit_log(server: DemoServer) -> None:
    admin = server.values["ADMIN_TOKEN"]
    # Given the demo's active service, whose line is up at the fake Interstellio
    assert server.get(f"/api/admin/services/{SERVICE}", admin).json()["status"] == "active"
    assert server.line_enabled() is True
    # When the demo admin suspends it over HTTP
    suspended = server.post(
        f"/api/admin/services/{SERVICE}/suspend",
        admin,
        {"reason": "Customer travelling", "suspension_type": "customer_request"},
    )
    # Then it is suspended and the line is disabled
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["service"]["open_suspension"]["pauses_billing"] is True
    assert server.line_enabled() is False
    # When it is reactivated
    reactivated = server.post(f"/api/admin/services/{SERVICE}/reactivate", admin, {"reason": "Back home"})
    # Then it is active and the line enabled again
    assert reactivated.status_code == 200, reactivated.text
    assert server.line_enabled() is True
    # And the audit log shows both actions, newest first, by the demo admin
    log = server.get(f"/api/admin/services/{SERVICE}/audit-log", admin).json()["items"]
    assert [(e["action"], e["reason"]) for e in log] == [
        ("reactivate", "Back home"),
        ("suspend", "Customer travelling"),
    ]
    assert {e["actor_email"] for e in log} == {"super@isp.example"}
