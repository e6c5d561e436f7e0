"""`serve --demo` as a user runs it: the demo admin suspends and reactivates a demo service over HTTP,
the fake Interstellio started by serve follows, and the audit log tells the story."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from isp_billing_cli.fakes import interstellio as fake_interstellio
from tests.e2e.demo_server import DemoServer, demo_server

CLI = str(Path(sys.executable).parent / "isp-billing")
SERVICE = "30000000-0000-4000-8000-000000000001"  # Thandi's fibre, Interstellio subscriber sub-thandi-1
SUBSCRIBER = "sub-thandi-1"


def line_enabled(server: DemoServer) -> bool:
    """The demo subscriber's `enabled` flag, read from the fake Interstellio that serve --demo started."""
    fake = server.values["INTERSTELLIO_URL"]
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


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with demo_server("ispb-e2e-lifecycle-") as running:
        yield running


def test_the_demo_admin_suspends_reactivates_and_reads_the_audit_log(server: DemoServer) -> None:
    admin = server.values["ADMIN_TOKEN"]
    # Given the demo's active service, whose line is up at the fake Interstellio
    assert server.get(f"/api/admin/services/{SERVICE}", admin).json()["status"] == "active"
    assert line_enabled(server) is True
    # When the demo admin suspends it over HTTP
    suspended = server.post(
        f"/api/admin/services/{SERVICE}/suspend",
        admin,
        {"reason": "Customer travelling", "suspension_type": "customer_request"},
    )
    # Then it is suspended and the line is disabled
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["service"]["open_suspension"]["pauses_billing"] is True
    assert line_enabled(server) is False
    # When it is reactivated
    reactivated = server.post(f"/api/admin/services/{SERVICE}/reactivate", admin, {"reason": "Back home"})
    # Then it is active and the line enabled again
    assert reactivated.status_code == 200, reactivated.text
    assert line_enabled(server) is True
    # And the audit log shows both actions, newest first, by the demo admin
    log = server.get(f"/api/admin/services/{SERVICE}/audit-log", admin).json()["items"]
    assert [(e["action"], e["reason"]) for e in log] == [
        ("reactivate", "Back home"),
        ("suspend", "Customer travelling"),
    ]
    assert {e["actor_email"] for e in log} == {"super@isp.example"}
