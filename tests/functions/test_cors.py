"""CORS: the configured dashboard origin may read responses; any other origin gets no CORS headers."""

import pytest

from isp_billing.settings import reset_settings_cache
from tests.events import call_api
from tests.factories import customer_with_token

DASHBOARD = "https://my.isp.example"


@pytest.fixture
def dashboard_origin(monkeypatch):
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", f"{DASHBOARD}, https://admin.isp.example")
    reset_settings_cache()
    yield
    monkeypatch.undo()
    reset_settings_cache()


def test_the_dashboard_origin_is_allowed_on_success_and_on_errors(conn, dashboard_origin):
    # Given a customer calling from the configured dashboard origin
    _, token = customer_with_token(conn)
    # When they call an endpoint, and when a call fails
    ok = call_api(
        "CustomerServicesListFunction",
        "GET",
        "/api/customer/services",
        token=token,
        headers={"origin": DASHBOARD},
    )
    failed = call_api(
        "CustomerServicesListFunction", "GET", "/api/customer/services", headers={"origin": DASHBOARD}
    )
    # Then both responses let the browser read them, including the request id
    for _status, headers, _ in (ok, failed):
        assert headers["access-control-allow-origin"] == DASHBOARD
        assert headers["access-control-expose-headers"] == "X-Request-Id"
    assert ok[0] == 200 and failed[0] == 401


def test_another_origin_gets_no_cors_headers(conn, dashboard_origin):
    _, token = customer_with_token(conn)
    status, headers, _ = call_api(
        "CustomerServicesListFunction",
        "GET",
        "/api/customer/services",
        token=token,
        headers={"origin": "https://evil.example"},
    )
    assert status == 200 and "access-control-allow-origin" not in headers
