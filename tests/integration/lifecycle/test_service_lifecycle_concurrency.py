"""Two admins acting on one service at the same moment, on two real connections: the row lock serialises them
and the second is checked against the first one's result."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import pytest

from isp_billing import db
from isp_billing.auth import AdminPrincipal
from isp_billing.lifecycle import actions as service_lifecycle
from isp_billing.lifecycle.models import SuspendRequest
from isp_billing.providers import registry
from tests.concurrency import wait_until_a_session_waits_for_a_lock
from tests.events import call_api
from tests.factories import admin_with_token, insert_admin
from tests.lifecycle_helpers import fake_interstellio_for_functions, log_rows, service_row, service_with_line


class GatedProvider:
    """Interstellio, but the call waits at a gate: admin A holds the service's lock while it waits."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()

    def set_subscriber_enabled(self, subscriber_id: str, enabled: bool) -> dict[str, Any]:
        self.entered.set()
        assert self.gate.wait(15), "the test never opened the gate"
        return registry.interstellio().set_subscriber_enabled(subscriber_id, enabled)

    def get_subscriber(self, subscriber_id: str) -> dict[str, Any]:
        return registry.interstellio().get_subscriber(subscriber_id)

    def daily_usage(self, *args: Any) -> list[Any]:
        raise NotImplementedError


def _principal(conn, role: str) -> AdminPrincipal:
    admin_id, auth_id = insert_admin(conn, role=role)
    row = conn.execute("select email, full_name from admin_users where id = %s", (admin_id,)).fetchone()
    return AdminPrincipal(
        admin_id=uuid.UUID(admin_id),
        auth_user_id=uuid.UUID(auth_id),
        role=role,  # type: ignore[arg-type]
        email=row["email"],
        full_name=row["full_name"],
    )


def _admin_a_suspends(provider: GatedProvider, admin: AdminPrincipal, service_id: str, out: dict) -> None:
    connection = db.connect()  # admin A's own connection (B uses the function's)
    try:
        with connection.transaction():
            connection.execute("select set_config('role', 'service_role', true)")
            out["result"] = service_lifecycle.suspend(
                connection,
                admin,
                uuid.UUID(service_id),
                SuspendRequest(reason="A: line abuse", suspension_type="technical"),
                "req-admin-a",
                provider,
            )
    except Exception as error:  # surfaced by the test's assertions
        out["error"] = error
    finally:
        connection.close()


def _admin_b_calls(action: str, service_id: str, token: str, body: dict, out: dict) -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())  # as the local gateway does for its worker threads
    function = {"suspend": "AdminServiceSuspendFunction", "cancel": "AdminServiceCancelFunction"}[action]
    out["response"] = call_api(
        function,
        "POST",
        f"/api/admin/services/{service_id}/{action}",
        token=token,
        body=body,
    )


@pytest.mark.parametrize(
    ("b_action", "b_body", "b_status"),
    [
        # B also suspends: after waiting, it sees A's suspension and is refused with the current status
        ("suspend", {"reason": "B: unpaid", "suspension_type": "non_payment"}, 409),
        # B cancels: after waiting, it cancels the service A suspended (suspended → cancelled is legal)
        ("cancel", {"reason": "B: customer left"}, 200),
    ],
    ids=["suspend-vs-suspend", "suspend-vs-cancel"],
)
def test_concurrent_actions_on_one_service_serialise(conn, b_action, b_body, b_status):
    with fake_interstellio_for_functions() as fake:
        # Given an active service, admin A (a direct connection) and admin B (the Lambda function)
        service_id, subscriber = service_with_line(conn, fake)
        admin_a = _principal(conn, "super_admin")
        _, token_b = admin_with_token(conn, role="super_admin")
        provider, a_out, b_out = GatedProvider(), {}, {}
        # When A locks the service and is held inside its Interstellio call
        thread_a = threading.Thread(target=_admin_a_suspends, args=(provider, admin_a, service_id, a_out))
        thread_a.start()
        assert provider.entered.wait(10)
        # And B acts on the same service meanwhile: it has to wait for A's lock
        thread_b = threading.Thread(
            target=_admin_b_calls, args=(b_action, service_id, token_b, b_body, b_out)
        )
        thread_b.start()
        wait_until_a_session_waits_for_a_lock(conn)
        assert service_row(conn, service_id)["status"] == "active"  # nothing committed yet
        # And A's call is let through
        provider.gate.set()
        thread_a.join(20)
        thread_b.join(20)
        # Then A suspended the service
        assert "error" not in a_out, a_out.get("error")
        assert a_out["result"].service.status == "suspended"
        # And B was checked against A's result, not the status it would have read without the lock
        status, b_headers, body = b_out["response"]
        assert status == b_status, body
        logs = log_rows(conn, service_id)
        if b_status == 409:
            assert body["current_status"] == "suspended"
            assert [log["request_id"] for log in logs] == ["req-admin-a"]
            assert service_row(conn, service_id)["status"] == "suspended"
        else:
            assert [(log["request_id"], log["previous_status"], log["new_status"]) for log in logs] == [
                ("req-admin-a", "active", "suspended"),
                (b_headers["x-request-id"], "suspended", "cancelled"),
            ]
            assert service_row(conn, service_id)["status"] == "cancelled"
        assert fake.subscribers[subscriber]["enabled"] is False
        suspensions = conn.execute(
            "select count(*) as n from service_suspensions where service_id = %s", (service_id,)
        ).fetchone()
        assert suspensions["n"] == 1
