"""POST /api/webhooks/netcash/mandate through its Lambda handler, with the fake NetCash as the truth."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest

from tests.events import call_api
from tests.factories import customer_with_token, insert_service
from tests.netcash_env import WEBHOOK_SECRET, running_fake

CREATE = ("CustomerPaymentMethodCreateFunction", "POST", "/api/customer/payment-methods")
WEBHOOK = ("NetcashMandateWebhookFunction", "POST", "/api/webhooks/netcash/mandate")
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def netcash(clean_db, monkeypatch):
    yield from running_fake(monkeypatch)


@pytest.fixture
def pending_mandate(conn, netcash):
    """A customer's debit order whose mandate awaits signature at NetCash; returns its id."""
    customer_id, token = customer_with_token(conn)
    insert_service(conn, customer_id, price="799.00")
    status, _, body = call_api(
        *CREATE,
        token=token,
        body={
            "method_type": "debit_order",
            "bank_name": "Capitec",
            "branch_code": "470010",
            "account_type": "savings",
            "account_number": "1234567891",
            "account_holder": "A Patel",
        },
    )
    assert status == 201
    return body["id"]


def _post(fields, token=WEBHOOK_SECRET):
    query = urlencode({"token": token}) if token is not None else ""
    return call_api(*WEBHOOK, body=urlencode(fields), headers=FORM, query=query)


def _method(conn, method_id):
    return conn.execute(
        "select mandate_status, mandate_signed_at from customer_payment_methods where id = %s", (method_id,)
    ).fetchone()


def test_an_accepted_mandate_is_confirmed_applied_once_and_becomes_collectable(
    conn, netcash, pending_mandate
):
    # Given the customer signed the mandate at NetCash
    fields = netcash.sign_mandate(pending_mandate, "accepted")
    # When NetCash posts the result
    status, _, body = _post(fields)
    # Then it is applied after NetCash confirmed it
    assert status == 200 and body == {"outcome": "applied"}
    row = _method(conn, pending_mandate)
    assert row["mandate_status"] == "accepted" and row["mandate_signed_at"] is not None
    assert [c.method for c in netcash.requests][-2:] == ["RequestMandateData", "RetrieveMandateData"]
    # And a redelivery answers 200 with no second effect
    status, _, body = _post(fields)
    assert status == 200 and body == {"outcome": "duplicate"}
    assert _method(conn, pending_mandate) == row
    delivery = conn.execute("select provider, outcome from webhook_deliveries").fetchall()
    assert delivery == [{"provider": "netcash_mandate", "outcome": "applied"}]


@pytest.mark.parametrize(("outcome", "status_after"), [("declined", "declined"), ("cancelled", "cancelled")])
def test_declined_and_cancelled_mandates_are_not_collectable(
    conn, netcash, pending_mandate, outcome, status_after
):
    fields = netcash.sign_mandate(pending_mandate, outcome)
    status, _, body = _post(fields)
    assert status == 200 and body == {"outcome": "applied"}
    assert _method(conn, pending_mandate)["mandate_status"] == status_after


def test_an_accepted_mandate_later_cancelled_stops_being_collectable(conn, netcash, pending_mandate):
    _post(netcash.sign_mandate(pending_mandate, "accepted"))
    status, _, body = _post(netcash.sign_mandate(pending_mandate, "cancelled"))
    assert status == 200 and body == {"outcome": "applied"}
    assert _method(conn, pending_mandate)["mandate_status"] == "cancelled"


@pytest.mark.parametrize("token", [None, "", "wrong-secret", WEBHOOK_SECRET + "x"])
def test_a_missing_or_wrong_token_is_401_and_changes_nothing(conn, netcash, pending_mandate, token):
    fields = netcash.sign_mandate(pending_mandate, "accepted")
    status, headers, _ = _post(fields, token=token)
    assert status == 401 and headers["content-type"] == "application/problem+json"
    assert _method(conn, pending_mandate)["mandate_status"] == "pending"


def test_a_forged_outcome_netcash_does_not_confirm_is_503_and_changes_nothing(conn, netcash, pending_mandate):
    # Given a postback claiming acceptance while NetCash still shows the mandate awaiting signature
    forged = {"MandateSuccessful": "1", "IsDeclined": "0", "Field1": pending_mandate, "IsActive": "True"}
    status, _, body = _post(forged)
    # Then nothing changes and NetCash is asked to deliver again later
    assert status == 503 and body["type"].endswith("mandate-not-confirmed")
    assert _method(conn, pending_mandate)["mandate_status"] == "pending"
    assert conn.execute("select count(*) as n from webhook_deliveries").fetchone()["n"] == 0


def test_netcash_confirming_another_outcome_than_the_hint_applies_the_confirmed_one(
    conn, netcash, pending_mandate
):
    # Given the mandate was declined at NetCash but the postback says accepted
    netcash.sign_mandate(pending_mandate, "declined")
    forged = {"MandateSuccessful": "1", "IsDeclined": "0", "Field1": pending_mandate}
    status, _, _ = _post(forged)
    # Then the truth (declined) is what is stored
    assert status == 200 and _method(conn, pending_mandate)["mandate_status"] == "declined"


def test_the_mandate_file_not_ready_in_time_is_503(conn, netcash, pending_mandate):
    netcash.not_ready_polls = 10
    status, _, _ = _post(netcash.sign_mandate(pending_mandate, "accepted"))
    assert status == 503 and _method(conn, pending_mandate)["mandate_status"] == "pending"


def test_netcash_failing_to_confirm_is_502(conn, netcash, pending_mandate):
    fields = netcash.sign_mandate(pending_mandate, "accepted")
    netcash.fail_next("http_500")
    status, _, body = _post(fields)
    assert status == 502 and body["provider"] == "netcash"
    assert _method(conn, pending_mandate)["mandate_status"] == "pending"


@pytest.mark.parametrize("field1", [str(uuid.uuid4()), "not-a-uuid"])
def test_a_reference_we_did_not_create_is_ignored(conn, netcash, pending_mandate, field1):
    status, _, body = _post({"MandateSuccessful": "1", "IsDeclined": "0", "Field1": field1})
    assert status == 200 and body == {"outcome": "ignored"}
    assert _method(conn, pending_mandate)["mandate_status"] == "pending"


@pytest.mark.parametrize(
    "fields",
    [
        {"Field1": "x"},
        {"MandateSuccessful": "1", "IsDeclined": "1", "Field1": "x"},
        {"MandateSuccessful": "1"},
    ],
)
def test_a_malformed_postback_is_422(conn, netcash, fields):
    status, headers, _ = _post(fields)
    assert status == 422 and headers["content-type"] == "application/problem+json"


def test_a_declined_mandate_cannot_be_revived_by_a_later_acceptance(conn, netcash, pending_mandate):
    _post(netcash.sign_mandate(pending_mandate, "declined"))
    status, _, body = _post(netcash.sign_mandate(pending_mandate, "accepted"))
    assert status == 200 and body == {"outcome": "ignored"}
    assert _method(conn, pending_mandate)["mandate_status"] == "declined"


def test_a_postback_ahead_of_netcash_s_file_is_not_recorded_so_its_redelivery_applies(
    conn, netcash, pending_mandate
):
    # Given an accepted mandate, and a cancellation postback arriving before NetCash's file shows it
    assert _post(netcash.sign_mandate(pending_mandate, "accepted"))[2] == {"outcome": "applied"}
    cancelled = {"MandateSuccessful": "0", "IsDeclined": "0", "IsActive": "False", "Field1": pending_mandate}
    # When it is delivered
    status, _, body = _post(cancelled)
    # Then NetCash is asked to deliver again, nothing changed, and the delivery is not recorded
    assert status == 503 and body["type"].endswith("mandate-not-confirmed")
    assert _method(conn, pending_mandate)["mandate_status"] == "accepted"
    outcomes = [row["outcome"] for row in conn.execute("select outcome from webhook_deliveries").fetchall()]
    assert outcomes == ["applied"]  # the acceptance's delivery only
    # When NetCash's file catches up and the same postback is delivered again
    netcash.sign_mandate(pending_mandate, "cancelled", post=False)
    status, _, body = _post(cancelled)
    # Then it is applied (not answered as a duplicate) and recorded once
    assert status == 200 and body == {"outcome": "applied"}
    assert _method(conn, pending_mandate)["mandate_status"] == "cancelled"
    assert _post(cancelled)[2] == {"outcome": "duplicate"}


def test_a_postback_for_a_request_whose_process_died_adopts_it(conn, netcash, pending_mandate):
    # Given a debit order left requesting (its request died after AddMandate), signed at NetCash
    conn.execute(
        "update customer_payment_methods set mandate_status = 'requesting', is_active = false,"
        " is_primary = false where id = %s",
        (pending_mandate,),
    )
    fields = netcash.sign_mandate(pending_mandate, "accepted")
    # When the postback arrives
    status, _, body = _post(fields)
    # Then the row is adopted and accepted, active and primary
    assert status == 200 and body == {"outcome": "applied"}
    row = conn.execute(
        "select mandate_status, is_active, is_primary from customer_payment_methods where id = %s",
        (pending_mandate,),
    ).fetchone()
    assert row == {"mandate_status": "accepted", "is_active": True, "is_primary": True}
