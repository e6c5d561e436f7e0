"""GET and PATCH /api/customer/profile through their Lambda handlers: the customer's own contact details,
changed by themselves and audited with the customer as the actor."""

from __future__ import annotations

import pytest

from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token

GET = ("CustomerProfileGetFunction", "GET", "/api/customer/profile")
PATCH = ("CustomerProfileUpdateFunction", "PATCH", "/api/customer/profile")
ADDRESS = {"line1": "4 Long St", "city": "Cape Town", "postal_code": "8001"}


def test_a_customer_reads_their_own_profile_only(conn):
    # Given two customers
    _, token = customer_with_token(conn, phone="+27820000001", email="me@example.co.za")
    customer_with_token(conn, phone="+27820000002")
    # When I read my profile
    status, _, body = call_api(*GET, token=token)
    # Then it is mine
    assert status == 200
    assert body["email"] == "me@example.co.za" and body["phone"] == "+27820000001"
    assert body["invoice_email"] == "me@example.co.za" and body["account_number"].startswith("CUS-")


def test_a_customer_changes_phone_address_and_invoice_email_audited_as_themselves(conn):
    # Given a customer
    me, token = customer_with_token(conn, phone="+27820000001")
    # When they change their phone, physical address and invoice e-mail
    status, headers, body = call_api(
        *PATCH,
        token=token,
        body={"phone": "083 555 1234", "physical_address": ADDRESS, "invoice_email": "bills@example.co.za"},
    )
    # Then the profile shows them
    assert status == 200, body
    assert body["phone"] == "+27835551234" and body["physical_address"] == ADDRESS
    assert body["invoice_email"] == "bills@example.co.za"
    # And one audit row has the customer as actor, with before and after of what changed
    (entry,) = conn.execute(
        "select action, actor_type, actor_admin_id, changed_fields, previous_data, new_data, request_id"
        " from customer_audit_log where customer_id = %s",
        (me,),
    ).fetchall()
    assert entry["action"] == "profile_change" and entry["actor_type"] == "customer"
    assert entry["actor_admin_id"] is None and entry["request_id"] == headers["x-request-id"]
    assert entry["changed_fields"] == ["invoice_email", "phone", "physical_address"]
    assert entry["previous_data"]["phone"] == "+27820000001"


def test_clearing_the_postal_address_is_allowed_but_the_invoice_email_stays(conn):
    _, token = customer_with_token(conn)
    call_api(*PATCH, token=token, body={"postal_address": ADDRESS})
    status, _, body = call_api(*PATCH, token=token, body={"postal_address": None})
    assert status == 200 and body["postal_address"] is None
    status, _, _ = call_api(*PATCH, token=token, body={"invoice_email": None})
    assert status == 422


@pytest.mark.parametrize(
    "field,value",
    [
        ("email", "new@example.co.za"),
        ("first_name", "Mallory"),
        ("company_name", "Mallory Ltd"),
        ("vat_number", "4123456789"),
        ("billing_day", 5),
        ("customer_id", "7f0c8a8e-0000-4000-8000-000000000000"),
    ],
)
def test_a_customer_cannot_change_anything_else_and_nothing_is_written(conn, field, value):
    # Given a customer / When they send a field that is not theirs to change
    me, token = customer_with_token(conn)
    before = conn.execute("select * from customers where id = %s", (me,)).fetchone()
    status, headers, body = call_api(*PATCH, token=token, body={field: value, "phone": "+27831111111"})
    # Then 422 naming the field, and nothing changed (not even the allowed field sent with it)
    assert status == 422 and headers["content-type"] == "application/problem+json"
    assert field in str(body["errors"])
    assert conn.execute("select * from customers where id = %s", (me,)).fetchone() == before
    assert conn.execute("select count(*) as n from customer_audit_log").fetchone()["n"] == 0


def test_a_customer_changing_their_profile_never_touches_another_customers(conn):
    # Given two customers
    _, token = customer_with_token(conn, phone="+27820000001")
    other, _ = customer_with_token(conn, phone="+27820000002")
    # When the first changes their phone
    call_api(*PATCH, token=token, body={"phone": "+27839999999"})
    # Then the other's is unchanged and has no audit row
    assert (
        conn.execute("select phone from customers where id = %s", (other,)).fetchone()["phone"]
        == "+27820000002"
    )
    assert (
        conn.execute(
            "select count(*) as n from customer_audit_log where customer_id = %s", (other,)
        ).fetchone()["n"]
        == 0
    )


@pytest.mark.parametrize("endpoint", [GET, PATCH], ids=["get", "patch"])
def test_an_admin_or_anonymous_caller_has_no_profile(conn, endpoint):
    # Given an admin's token (nobody's customer), and no token at all
    _, admin_token = admin_with_token(conn, role="super_admin")
    body = {"phone": "+27831111111"} if endpoint is PATCH else None
    # Then 403 for the admin, 401 without a token
    assert call_api(*endpoint, token=admin_token, body=body)[0] == 403
    assert call_api(*endpoint, token=None, body=body)[0] == 401
