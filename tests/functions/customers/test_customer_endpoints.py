"""GET /api/customer/services, /services/{id} and /billing through their Lambda handlers."""

import time
from decimal import Decimal

import jwt
import pytest

from isp_billing.settings import LOCAL_DEV_JWT_SECRET
from isp_billing_cli.demo import mint_token
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token, insert_service

SERVICES = ("CustomerServicesListFunction", "GET", "/api/customer/services")
BILLING = ("CustomerBillingGetFunction", "GET", "/api/customer/billing")


def _one_service(logical_id="CustomerServiceGetFunction", service_id="x"):
    return (logical_id, "GET", f"/api/customer/services/{service_id}")


def test_a_customer_lists_their_own_services_only(conn):
    # Given two customers with services
    me, token = customer_with_token(conn)
    other, _ = customer_with_token(conn)
    mine = insert_service(conn, me, price="799.00")
    insert_service(conn, other)
    # When the first lists services
    status, headers, body = call_api(*SERVICES, token=token)
    # Then only their service comes back, money as a string
    assert status == 200
    assert [item["id"] for item in body] == [mine]
    assert body[0]["monthly_price"] == "799.00"
    assert body[0]["status"] == "active" and body[0]["package_name"]
    assert headers["x-request-id"]


def test_a_customer_reads_one_service_and_gets_404_for_anothers(conn):
    # Given my service and another customer's
    me, token = customer_with_token(conn)
    other, _ = customer_with_token(conn)
    mine, theirs = insert_service(conn, me), insert_service(conn, other)
    # When I read each
    ok_status, _, ok_body = call_api(*_one_service(service_id=mine), token=token)
    status, headers, body = call_api(*_one_service(service_id=theirs), token=token)
    # Then mine is returned and theirs is "not found" (its existence is not disclosed)
    assert ok_status == 200 and ok_body["id"] == mine
    assert status == 404 and headers["content-type"] == "application/problem+json"
    assert body["status"] == 404 and "type" in body and "title" in body


def test_a_malformed_path_id_is_422_problem_json(conn):
    _, token = customer_with_token(conn)
    status, headers, body = call_api(*_one_service(service_id="not-a-uuid"), token=token)
    assert status == 422
    assert headers["content-type"] == "application/problem+json"
    assert body["errors"][0]["loc"] == ["path", "service_id"]
    assert "not-a-uuid" not in str(body["errors"])  # input is never echoed back


def test_billing_settings_with_money_as_strings(conn):
    # Given a customer whose billing day is 25 and who has R12.50 credit
    me, token = customer_with_token(conn)
    conn.execute(
        "update customer_billing set billing_day = 25, credit_balance = 12.5 where customer_id = %s", (me,)
    )
    # When they read their billing settings
    status, _, body = call_api(*BILLING, token=token)
    # Then the values come back, credit as "12.50"
    assert status == 200
    assert body["billing_day"] == 25 and body["payment_terms_days"] == 7
    assert body["credit_balance"] == "12.50" and Decimal(body["credit_balance"]) == Decimal("12.50")


def _expired(sub):
    now = int(time.time())
    return jwt.encode(
        {"sub": sub, "aud": "authenticated", "exp": now - 3600, "iat": now - 7200},
        LOCAL_DEV_JWT_SECRET,
        algorithm="HS256",
    )


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda sub: None, id="missing"),
        pytest.param(_expired, id="expired"),
        pytest.param(lambda sub: mint_token(sub, secret="forged-secret-0123456789-0123456789"), id="forged"),
        pytest.param(
            lambda sub: jwt.encode(
                {"sub": sub, "aud": "authenticated", "exp": int(time.time()) + 60}, None, algorithm="none"
            ),
            id="alg-none",
        ),
        pytest.param(lambda sub: "garbage", id="garbage"),
    ],
)
@pytest.mark.parametrize("endpoint", [SERVICES, BILLING], ids=["services", "billing"])
def test_bad_tokens_get_401_problem_json(conn, make_token, endpoint):
    # Given a real customer, but a missing, expired, forged, unsigned or garbage token
    customer_id, _ = customer_with_token(conn)
    sub = conn.execute("select auth_user_id from customers where id = %s", (customer_id,)).fetchone()
    token = make_token(str(sub["auth_user_id"]))
    # When the endpoint is called
    status, headers, body = call_api(*endpoint, token=token)
    # Then 401 problem+json, with a WWW-Authenticate challenge and no detail of the token
    assert status == 401
    assert headers["content-type"] == "application/problem+json"
    assert headers["www-authenticate"] == "Bearer"
    assert body["status"] == 401 and body["detail"]


def test_a_signed_in_user_without_a_customer_account_gets_403(conn):
    # Given an admin (a valid user, but nobody's customer)
    _, admin_token = admin_with_token(conn, role="super_admin")
    # When they call a customer endpoint / Then 403
    status, _, body = call_api(*SERVICES, token=admin_token)
    assert status == 403 and body["title"] == "Forbidden"


def test_a_role_claim_in_the_token_grants_nothing(conn):
    # Given a customer whose token claims to be the service role
    me, _ = customer_with_token(conn)
    insert_service(conn, me)
    insert_service(conn, customer_with_token(conn)[0])
    auth_id = conn.execute("select auth_user_id from customers where id = %s", (me,)).fetchone()[
        "auth_user_id"
    ]
    token = mint_token(str(auth_id), extra={"role": "service_role", "app_role": "super_admin"})
    # When they list services / Then they still see only their own
    status, _, body = call_api(*SERVICES, token=token)
    assert status == 200 and len(body) == 1


def test_an_unreachable_database_is_503_problem_json(conn, monkeypatch):
    from isp_billing import db
    from isp_billing.settings import reset_settings_cache

    # Given a valid token but a database that does not answer
    _, token = customer_with_token(conn)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=1")
    reset_settings_cache()
    db.reset_connection()
    try:
        # When the endpoint is called
        status, headers, body = call_api(*SERVICES, token=token)
    finally:
        monkeypatch.undo()
        reset_settings_cache()
        db.reset_connection()
    # Then 503 problem+json, and nothing of the connection string or a stack trace
    assert status == 503
    assert headers["content-type"] == "application/problem+json"
    assert "127.0.0.1" not in str(body) and "Traceback" not in str(body)
