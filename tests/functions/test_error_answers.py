"""Every answer is problem+json with X-Request-Id: framework answers (400/404/405), 500s, unique violations
(409), statement timeouts (503), forged cursors (422); and the token is checked before the body is read."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from isp_billing.customers import account as customer_account
from isp_billing_cli.events import LambdaContext, api_gateway_event
from isp_billing_cli.template import function_by_id
from tests.concurrency import wait_until_a_session_waits_for_a_lock
from tests.conftest import TEST_CRON_SECRET
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token, insert_customer
from tests.lifecycle_helpers import service_with_line

SERVICE_ID = "8b0e2a4e-1111-4111-8111-111111111111"
SUSPEND = ("AdminServiceSuspendFunction", "POST", f"/api/admin/services/{SERVICE_ID}/suspend")
UNPARSEABLE = {
    "not UTF-8": b"\xff\xfe{\x00",
    "nested 5000 deep": "[" * 5000 + "]" * 5000,
    "JSON syntax": '{"reason": ',
}


def _raw_call(logical_id: str, method: str, route: str, path: str, body: Any, token: str | None = None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    event = api_gateway_event(method, route, path, {"service_id": SERVICE_ID}, headers, "", body)
    result = function_by_id(logical_id).load_handler()(event, LambdaContext(logical_id))
    return (
        result["statusCode"],
        {key.lower(): value for key, value in result["headers"].items()},
        result["body"],
    )


def _is_problem(headers: dict[str, str]) -> None:
    assert headers["content-type"] == "application/problem+json"
    assert headers["x-request-id"]


@pytest.mark.parametrize("kind", list(UNPARSEABLE))
def test_an_unparseable_body_is_400_problem_json(conn, kind):
    # Given an admin, and a body that is not JSON at all
    _, token = admin_with_token(conn)
    # When it is sent
    status, headers, body = _raw_call(
        "AdminServiceSuspendFunction",
        "POST",
        "/api/admin/services/{service_id}/suspend",
        SUSPEND[2],
        UNPARSEABLE[kind],
        token,
    )
    # Then it is a 400 problem with the request id, never echoing the body
    assert status == 400, body
    _is_problem(headers)
    assert "malformed-body" in body and "\\u00ff" not in body


@pytest.mark.parametrize("kind", list(UNPARSEABLE))
def test_without_a_token_any_body_is_401(conn, kind):
    # Given no token and an unparseable body / Then 401: the token is checked before the body is read
    status, headers, _ = _raw_call(
        "AdminServiceSuspendFunction",
        "POST",
        "/api/admin/services/{service_id}/suspend",
        SUSPEND[2],
        UNPARSEABLE[kind],
    )
    assert status == 401
    _is_problem(headers)
    assert headers["www-authenticate"] == "Bearer"


def test_a_wrong_method_is_405_with_allow(conn):
    # Given a POST-only route / When it is called with GET / Then 405 problem+json naming what it allows
    status, headers, _ = _raw_call(
        "AdminServiceSuspendFunction", "GET", "/api/admin/services/{service_id}/suspend", SUSPEND[2], None
    )
    assert status == 405
    _is_problem(headers)
    assert headers["allow"] == "POST"


def test_an_unknown_path_inside_a_function_is_404_problem_json(conn):
    status, headers, _ = _raw_call(
        "AdminServiceSuspendFunction", "POST", "/api/admin/services/{service_id}/suspend", "/nowhere", "{}"
    )
    assert status == 404
    _is_problem(headers)


def test_an_unexpected_error_is_500_problem_json_with_the_request_id_header(conn, monkeypatch):
    # Given a service call that fails unexpectedly
    _, token = customer_with_token(conn)

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("boom with a secret value")

    monkeypatch.setattr(customer_account, "list_services", broken)
    # When the route runs
    status, headers, body = call_api(
        "CustomerServicesListFunction", "GET", "/api/customer/services", token=token
    )
    # Then 500 problem+json, the request id in the header and the body, and nothing of the message
    assert status == 500
    _is_problem(headers)
    assert body["request_id"] == headers["x-request-id"]
    assert "secret" not in str(body)


def test_a_statement_timeout_is_503_took_too_long_not_database_unreachable(conn, monkeypatch):
    # Given a query the database cancels on its statement timeout
    _, token = customer_with_token(conn)

    def slow(db_conn: Any, *_: Any, **__: Any) -> None:
        db_conn.execute("select set_config('statement_timeout', '50', true)")
        db_conn.execute("select pg_sleep(2)")

    monkeypatch.setattr(customer_account, "list_services", slow)
    status, headers, body = call_api(
        "CustomerServicesListFunction", "GET", "/api/customer/services", token=token
    )
    # Then it is its own answer
    assert status == 503
    _is_problem(headers)
    assert body["type"].endswith("/took-too-long") and body["reason"] == "statement_timeout"


@pytest.mark.parametrize(
    "cursor", ["WyIyMDI2LTExLTI1VDA4OjMwOjAwKzAwOjAwIiwxMjNd", "a", "_w", "%00", "x" * 600]
)
@pytest.mark.parametrize(
    "function,path",
    [
        ("AdminServicesListFunction", "/api/admin/services"),
        ("AdminReviewQueueListFunction", "/api/admin/review-queue"),
        ("AdminValidationErrorsListFunction", "/api/admin/validation-errors"),
    ],
)
def test_a_forged_cursor_is_422(conn, function, path, cursor):
    # Given a forged cursor (the first is ["2026-11-25T08:30:00+00:00", 123], the fuzzer's 500)
    _, token = admin_with_token(conn, role="support")
    status, headers, _ = call_api(function, "GET", path, token=token, query=f"cursor={cursor}")
    assert status == 422
    _is_problem(headers)


def test_an_audit_log_forged_cursor_is_422(conn):
    _, token = admin_with_token(conn, role="support")
    service_id, _ = service_with_line(conn, None, subscriber=False)
    status, _, _ = call_api(
        "AdminServiceAuditLogFunction",
        "GET",
        f"/api/admin/services/{service_id}/audit-log",
        token=token,
        query="cursor=WyIyMDI2LTExLTI1VDA4OjMwOjAwKzAwOjAwIiwxMjNd",
    )
    assert status == 422


def _review_item_for_new_customer(conn) -> str:
    conn.execute(
        "insert into service_packages (name, service_type, speed_down_mbps, speed_up_mbps, monthly_price)"
        " values ('Fibre 50/50', 'fibre', 50, 50, '699.00')"
    )
    insert_customer(conn, email="one@example.co.za", phone="+27825550000")
    insert_customer(conn, email="two@example.co.za", phone="+27825550000")
    conn.execute(
        "insert into consumer_orders (order_number, first_name, last_name, email, phone, package_name,"
        " package_price, status) values ('ORD-U1', 'Thandi', 'Mokoena', 'shared@example.co.za',"
        " '082 555 0000', 'Fibre 50/50', '699.00', 'installed')"
    )
    status, _, _ = call_api(
        "BackfillOrdersFunction", "POST", "/api/admin/backfill/orders", token=TEST_CRON_SECRET, body={}
    )
    assert status == 200
    return str(conn.execute("select id from migration_review_queue").fetchone()["id"])


def test_a_unique_violation_between_two_sessions_is_409_naming_the_constraint(conn, admin_database_url):
    # Given a review item whose create_new will create a customer with the order's e-mail
    item_id = _review_item_for_new_customer(conn)
    _, token = admin_with_token(conn, role="billing_admin")
    # And another session that has (not yet committed) a customer with that e-mail: a second admin's decision
    # (arranged as the database's admin: the runtime role the code connects as may write nothing as itself)
    other = psycopg.connect(admin_database_url)
    other.execute(
        "insert into customers (first_name, last_name, email, customer_type)"
        " values ('Other', 'Admin', 'Shared@Example.co.za', 'consumer')"
    )
    answers: list[Any] = []
    worker = threading.Thread(
        target=lambda: answers.append(
            call_api(
                "AdminReviewQueueResolveFunction",
                "POST",
                f"/api/admin/review-queue/{item_id}/resolve",
                token=token,
                body={"decision": "create_new"},
            )
        )
    )
    # When this admin resolves while the other session's insert is pending, and that one commits first
    worker.start()
    wait_until_a_session_waits_for_a_lock(conn)
    other.commit()
    other.close()
    worker.join(timeout=30)
    # Then this admin gets 409 with a clear reason (the constraint's name, never the e-mail), not a 500
    [(status, headers, body)] = answers
    assert status == 409, body
    _is_problem(headers)
    assert body["reason"] == "unique_violation" and body["constraint"]
    assert "shared@example" not in str(body).lower()
    # And the item is still open (nothing of the refused decision was written)
    row = conn.execute("select status from migration_review_queue where id = %s", (item_id,)).fetchone()
    assert row["status"] == "open"
