"""Cancellation dates are bounded, and an admin can end service at once (issue 10 §4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from isp_billing.clock import sast_today
from isp_billing_cli.fakes import interstellio as fake_interstellio
from tests.events import call_api
from tests.factories import admin_with_token
from tests.lifecycle_helpers import fake_interstellio_for_functions, log_rows, service_row, service_with_line


@pytest.fixture
def fake(conn) -> Iterator[fake_interstellio.FakeInterstellio]:
    with fake_interstellio_for_functions() as server:
        yield server


def _cancel(service_id: str, token: str, body: dict):
    return call_api(
        "AdminServiceCancelFunction",
        "POST",
        f"/api/admin/services/{service_id}/cancel",
        token=token,
        body=body,
    )


def _end_now(service_id: str, token: str, body: dict | None = None):
    return call_api(
        "AdminServiceEndNowFunction",
        "POST",
        f"/api/admin/services/{service_id}/end-now",
        token=token,
        body=body or {"reason": "Fraud confirmed"},
    )


def test_a_cancellation_date_beyond_the_bound_is_422_and_writes_nothing(conn, fake):
    # Given an active service
    _, token = admin_with_token(conn, role="billing_admin")
    service_id, _ = service_with_line(conn, fake, activation_date="2025-01-01")
    today = sast_today()
    # When cancelled effective 2099-12-31, or one day past the 93-day bound
    for effective in ("2099-12-31", (today + timedelta(days=94)).isoformat()):
        status, _, problem = _cancel(service_id, token, {"reason": "x", "effective_date": effective})
        # Then 422 naming the field, and nothing is written
        assert status == 422, problem
        assert problem["field"] == "effective_date" and "93 days" in problem["detail"]
    assert service_row(conn, service_id)["status"] == "active" and log_rows(conn, service_id) == []
    # And the bound itself is accepted
    edge = (today + timedelta(days=93)).isoformat()
    status, _, body = _cancel(service_id, token, {"reason": "x", "effective_date": edge})
    assert status == 200, body
    assert body["service"]["cancellation_effective_date"] == edge


def test_end_now_shortens_an_earlier_cancellation_and_disables_the_line_at_once(conn, fake):
    # Given a service cancelled with a last day a month away (its line still up)
    admin_id, token = admin_with_token(conn, role="super_admin")
    service_id, subscriber = service_with_line(conn, fake, activation_date="2025-01-01")
    later = (sast_today() + timedelta(days=30)).isoformat()
    assert _cancel(service_id, token, {"reason": "Moving", "effective_date": later})[0] == 200
    assert fake.subscribers[subscriber]["enabled"] is True
    # When an admin ends it now
    status, _, body = _end_now(service_id, token, {"reason": "Fraud confirmed", "notes": "case 12"})
    # Then it ends today, the line is disabled now and in sync, nothing is scheduled any more
    assert status == 200, body
    today = sast_today()
    row = service_row(conn, service_id)
    assert row["status"] == "cancelled" and row["cancellation_effective_date"] == today
    assert row["cancellation_reason"] == "Moving"  # the cancellation's own reason stays
    assert row["provider_sync_status"] == "in_sync" and row["provider_sync_not_before"] is None
    assert fake.subscribers[subscriber]["enabled"] is False
    # And the audit row says who, why, the date it replaced and the final period's figures
    log = log_rows(conn, service_id)[-1]
    assert (log["action"], log["previous_status"], log["new_status"]) == ("end_now", "cancelled", "cancelled")
    assert str(log["actor_admin_id"]) == admin_id and log["reason"] == "Fraud confirmed"
    assert log["details"]["previous_effective_date"] == later
    assert log["details"]["cancellation"]["effective_date"] == today.isoformat()
    assert log["details"]["provider"] == {"outcome": "applied", "enabled": False}
    assert body["action"]["id"] == str(log["id"])


def test_end_now_on_an_active_service_cancels_it_today(conn, fake):
    _, token = admin_with_token(conn, role="billing_admin")
    service_id, subscriber = service_with_line(conn, fake, activation_date="2025-01-01")
    status, _, body = _end_now(service_id, token)
    assert status == 200, body
    row = service_row(conn, service_id)
    assert row["status"] == "cancelled" and row["cancellation_date"] == row["cancellation_effective_date"]
    assert row["cancellation_reason"] == "Fraud confirmed"
    assert fake.subscribers[subscriber]["enabled"] is False


def test_end_now_on_a_suspended_service_does_not_call_interstellio_again(conn, fake):
    _, token = admin_with_token(conn, role="super_admin")
    service_id, _ = service_with_line(conn, fake, status="suspended", activation_date="2025-01-01")
    status, _, body = _end_now(service_id, token)
    assert status == 200, body
    assert [call for call in fake.requests if call.method == "PATCH"] == []
    assert body["action"]["details"]["provider"] == {"outcome": "not_needed"}
    assert service_row(conn, service_id)["status"] == "cancelled"


def test_end_now_is_for_billing_roles_and_refuses_a_service_that_ended_already(conn, fake):
    # Given a support admin, and a service whose last day was yesterday
    _, support = admin_with_token(conn, role="support")
    _, billing = admin_with_token(conn, role="billing_admin")
    service_id, _ = service_with_line(conn, fake, activation_date="2025-01-01")
    status, _, _ = _end_now(service_id, support)
    assert status == 403
    yesterday = sast_today() - timedelta(days=1)
    conn.execute(
        "update customer_services set status = 'cancelled', cancellation_date = %s,"
        " cancellation_effective_date = %s where id = %s",
        (yesterday, yesterday, service_id),
    )
    status, _, problem = _end_now(service_id, billing)
    assert status == 409 and problem["current_status"] == "cancelled"
    assert log_rows(conn, service_id) == []


def test_end_now_that_interstellio_refuses_is_502_and_changes_nothing(conn, fake):
    _, token = admin_with_token(conn, role="billing_admin")
    service_id, _ = service_with_line(conn, fake, activation_date="2025-01-01")
    conn.execute(
        "update customer_services set interstellio_subscriber_id = 'sub-gone' where id = %s", (service_id,)
    )
    status, _, problem = _end_now(service_id, token)
    assert status == 502, problem
    assert service_row(conn, service_id)["status"] == "active"
    [log] = log_rows(conn, service_id)
    assert log["action"] == "end_now" and log["details"]["outcome"] == "provider_failed"
