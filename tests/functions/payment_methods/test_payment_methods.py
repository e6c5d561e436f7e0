"""The customer's payment-method endpoints through their Lambda handlers, against a fake NetCash."""

from __future__ import annotations

import io
import json
import logging
import uuid
from decimal import Decimal
from uuid import UUID

import pytest

from isp_billing.clock import sast_today
from isp_billing.observability import logger
from tests.events import call_api
from tests.factories import customer_with_token, insert_service
from tests.netcash_env import calls, fail_only, running_fake

LIST = ("CustomerPaymentMethodsListFunction", "GET", "/api/customer/payment-methods")
CREATE = ("CustomerPaymentMethodCreateFunction", "POST", "/api/customer/payment-methods")
ACCOUNT_NUMBER = "62012345678"
NEXT_YEAR = sast_today().year + 1


@pytest.fixture
def netcash(clean_db, monkeypatch):
    yield from running_fake(monkeypatch)


def _update(method_id):
    return ("CustomerPaymentMethodUpdateFunction", "PATCH", f"/api/customer/payment-methods/{method_id}")


def _delete(method_id):
    return ("CustomerPaymentMethodDeleteFunction", "DELETE", f"/api/customer/payment-methods/{method_id}")


def _set_primary(method_id):
    return (
        "CustomerPaymentMethodSetPrimaryFunction",
        "POST",
        f"/api/customer/payment-methods/{method_id}/set-primary",
    )


def debit_order(**changes):
    body = {
        "method_type": "debit_order",
        "display_name": "Salary account",
        "bank_name": "FNB",
        "branch_code": "250655",
        "account_type": "cheque",
        "account_number": ACCOUNT_NUMBER,
        "account_holder": "T Mokoena",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def card(**changes):
    body = {
        "method_type": "card",
        "provider_token": "tok_live_9f8e7d6c5b4a",
        "card_brand": "visa",
        "card_last4": "4242",
        "card_expiry_month": 12,
        "card_expiry_year": NEXT_YEAR,
    }
    body.update(changes)
    return body


@pytest.fixture
def json_logs():
    """The structured log lines as the Lambda would print them (same formatter, extra keys included)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


@pytest.fixture
def customer(conn):
    """(customer id, token) for a customer paying R699 + R399 a month (a cancelled R999 does not count)."""
    customer_id, token = customer_with_token(conn, phone="+27821234567")
    insert_service(conn, customer_id, price="699.00")
    insert_service(conn, customer_id, price="399.00", status="pending")
    insert_service(conn, customer_id, price="999.00", status="cancelled")
    return customer_id, token


def _rows(conn, customer_id):
    return conn.execute(
        "select * from customer_payment_methods where customer_id = %s order by created_at", (customer_id,)
    ).fetchall()


def _add(token, body, key=None):
    headers = {"Idempotency-Key": key} if key else None
    return call_api(*CREATE, token=token, body=body, headers=headers)


# --- POST: debit order -----------------------------------------------------------------------------------


def test_a_debit_order_requests_a_mandate_and_is_stored_masked_and_pending(
    conn, netcash, customer, json_logs
):
    customer_id, token = customer
    account = conn.execute("select account_number from customers where id = %s", (customer_id,)).fetchone()
    # When the customer adds a debit order
    status, _, body = _add(token, debit_order())
    # Then it is created pending, masked, primary (the first method), with the link to sign the mandate
    assert status == 201, body
    assert body["method_type"] == "debit_order" and body["mandate_status"] == "pending"
    assert body["account_number_masked"] == "****5678" and body["is_primary"] is True
    assert body["mandate_url"].startswith(netcash.url + "/mandate/")
    assert body["mandate_amount"] == "1098.00" and body["is_collectable"] is False
    assert "account_number" not in body and "account_holder" not in body
    # And NetCash got the account validated, then a mandate keyed by our ids and the monthly total
    [validation] = calls(netcash, "ValidateBankAccount")
    [mandate] = calls(netcash, "AddMandate")
    assert validation.params["AccountNumber"] == ACCOUNT_NUMBER
    assert mandate.params["AccountReference"] == account["account_number"]
    assert mandate.params["AgreementReferenceNumber"] == body["id"] == mandate.params["Field1"]
    assert mandate.params["MandateAmount"] == "1098.00"
    assert mandate.params["MobileNumber"] == "0821234567"
    # And the row keeps only the masked number; the mandate reference is ours
    [row] = _rows(conn, customer_id)
    assert row["account_number_masked"] == "****5678" and row["mandate_reference"] == body["id"]
    assert ACCOUNT_NUMBER not in json.dumps(row, default=str)
    # And neither the account number nor the holder's name reached the logs; the change did, with ids
    logs = json_logs.getvalue()
    assert ACCOUNT_NUMBER not in logs and "T Mokoena" not in logs
    added = [json.loads(line) for line in logs.splitlines() if '"payment method added"' in line]
    assert added and added[0]["customer_id"] == customer_id and added[0]["correlation_id"]


def test_a_second_method_is_not_primary_and_the_list_shows_primary_first(conn, netcash, customer):
    _, token = customer
    _, _, first = _add(token, debit_order())
    status, _, second = _add(token, {"method_type": "eft", "display_name": "EFT"})
    assert status == 201 and second["is_primary"] is False
    # When the customer lists their methods
    status, _, listed = call_api(*LIST, token=token)
    # Then the primary comes first, details masked only
    assert status == 200
    assert [item["id"] for item in listed] == [first["id"], second["id"]]
    assert all("provider_token" not in item and "account_holder" not in item for item in listed)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"bank_name": None}, "bank_name"),
        ({"branch_code": "25065"}, "branch_code"),
        ({"branch_code": "25065a"}, "branch_code"),
        ({"account_type": "current"}, "account_type"),
        ({"account_number": "62012a45678"}, "account_number"),
        ({"account_number": "123456"}, "account_number"),
        ({"account_number": "620123456789"}, "account_number"),
        ({"account_holder": None}, "account_holder"),
        ({"account_holder": "T"}, "account_holder"),
        ({"display_name": "x" * 61}, "display_name"),
        ({"is_primary": True}, "is_primary"),
        ({"mandate_status": "accepted"}, "mandate_status"),
        ({"customer_id": str(uuid.uuid4())}, "customer_id"),
    ],
)
def test_an_invalid_debit_order_is_422_naming_the_field_and_nothing_happens(
    conn, netcash, customer, changes, field
):
    customer_id, token = customer
    status, headers, body = _add(token, debit_order(**changes))
    assert status == 422 and headers["content-type"] == "application/problem+json"
    assert field in json.dumps(body["errors"])
    assert ACCOUNT_NUMBER not in json.dumps(body)
    assert _rows(conn, customer_id) == [] and netcash.requests == []


def test_an_unknown_method_type_is_422(conn, netcash, customer):
    customer_id, token = customer
    status, _, _ = _add(token, {"method_type": "bitcoin"})
    assert status == 422 and _rows(conn, customer_id) == []


def test_netcash_rejecting_the_account_is_422_naming_the_field(conn, netcash, customer):
    # Given an account number NetCash's check-digit validation fails
    customer_id, token = customer
    status, _, body = _add(token, debit_order(account_number="62012340000"))
    # Then 422 names account_number; no mandate was requested and nothing stored
    assert status == 422 and body["field"] == "account_number"
    assert calls(netcash, "AddMandate") == [] and _rows(conn, customer_id) == []


@pytest.mark.parametrize("fault", ["http_500", "timeout", "malformed", "error_code"])
@pytest.mark.parametrize("method", ["ValidateBankAccount", "AddMandate"])
def test_a_netcash_failure_is_502_and_nothing_is_half_created(
    conn, netcash, customer, monkeypatch, fault, method
):
    # Given NetCash fails the given call once
    customer_id, token = customer
    fail_only(netcash, method, monkeypatch)
    netcash.fail_next(fault, seconds=2.0) if fault == "timeout" else netcash.fail_next(fault)
    # When the customer adds a debit order with an idempotency key
    status, headers, body = _add(token, debit_order(), key="retry-after-502")
    # Then 502 problem+json, no stored key, and no method the customer can see or be collected from
    assert status == 502 and headers["content-type"] == "application/problem+json"
    assert body["provider"] == "netcash"
    assert conn.execute("select count(*) as n from idempotency_keys").fetchone()["n"] == 0
    assert [row for row in _rows(conn, customer_id) if row["is_active"]] == []
    if method == "AddMandate":
        # And the intent committed before AddMandate remains: failed when NetCash refused with its own code,
        # still requesting (for sync-mandate-statuses to settle) when its answer could not be read
        [intent] = _rows(conn, customer_id)
        expected = "failed" if fault == "error_code" else "requesting"
        assert intent["mandate_status"] == expected and intent["is_primary"] is False
    else:
        assert _rows(conn, customer_id) == []
    # And a retry with the same key succeeds once NetCash is back
    status, _, body = _add(token, debit_order(), key="retry-after-502")
    assert status == 201
    assert [row["id"] for row in _rows(conn, customer_id) if row["is_active"]] == [UUID(body["id"])]


def test_a_customer_with_nothing_to_pay_for_cannot_size_a_mandate(conn, netcash):
    customer_id, token = customer_with_token(conn)
    status, _, body = _add(token, debit_order())
    assert status == 409 and body["reason"] == "no_billable_services"
    assert netcash.requests == [] and _rows(conn, customer_id) == []


# --- POST: card data is refused ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        debit_order(display_name="4111 1111 1111 1111"),
        debit_order(display_name="card 4111-1111-1111-1111 please"),
        {"method_type": "eft", "display_name": 4111111111111111},
        card(provider_token="tok_4111111111111111"),
        card(cvv="123"),
        card(card_number="4111111111111111"),
        {"method_type": "card", "card": {"pan": "not-even-digits"}},
        card(display_name="x", CVC2="999"),
    ],
)
def test_a_body_carrying_card_data_is_refused_and_nothing_is_stored(conn, netcash, customer, body):
    customer_id, token = customer
    status, headers, problem = _add(token, body)
    assert status == 422 and headers["content-type"] == "application/problem+json"
    assert "never accepted" in problem["detail"] and problem["fields"]
    assert "4111" not in json.dumps(problem)
    assert _rows(conn, customer_id) == [] and netcash.requests == []


def test_a_card_is_added_as_a_token_with_brand_last4_and_expiry(conn, netcash, customer):
    customer_id, token = customer
    status, _, body = _add(token, card())
    assert status == 201, body
    assert body["card_brand"] == "visa" and body["card_last4"] == "4242" and body["is_collectable"] is True
    assert "provider_token" not in body and netcash.requests == []
    [row] = _rows(conn, customer_id)
    assert row["provider_token"] == "tok_live_9f8e7d6c5b4a" and row["mandate_status"] is None


@pytest.mark.parametrize(
    "changes",
    [
        {"card_last4": "424"},
        {"card_expiry_month": 13},
        {"card_expiry_year": 2020},
        {"card_brand": "bitcoin"},
        {"provider_token": "short"},
        {"provider_token": None},
    ],
)
def test_an_invalid_card_is_422(conn, netcash, customer, changes):
    customer_id, token = customer
    status, _, _ = _add(token, card(**changes))
    assert status == 422 and _rows(conn, customer_id) == []


# --- POST: idempotency -------------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_replays_the_first_response_and_creates_nothing(conn, netcash, customer):
    customer_id, token = customer
    first = _add(token, debit_order(), key="add-salary-account")
    # When the client retries the identical request with the same key
    again = _add(token, debit_order(), key="add-salary-account")
    # Then the same response comes back, marked as a replay, and only one method and mandate exist
    assert first[0] == again[0] == 201 and first[2] == again[2]
    assert again[1]["idempotent-replayed"] == "true" and "idempotent-replayed" not in first[1]
    assert len(_rows(conn, customer_id)) == 1 and len(calls(netcash, "AddMandate")) == 1
    # And the stored fingerprint does not reveal the account number
    stored = conn.execute("select request_hash, response_body from idempotency_keys").fetchone()
    assert stored["request_hash"].startswith("scrypt$")
    assert ACCOUNT_NUMBER not in json.dumps(stored["response_body"])


def test_the_same_key_with_another_body_is_422(conn, netcash, customer):
    customer_id, token = customer
    _add(token, debit_order(), key="k-1")
    status, _, body = _add(token, debit_order(account_number="62012345679"), key="k-1")
    assert status == 422 and body["field"] == "idempotency-key"
    assert len(_rows(conn, customer_id)) == 1


def test_keys_are_scoped_per_customer(conn, netcash, customer):
    _, token = customer
    other_id, other_token = customer_with_token(conn)
    insert_service(conn, other_id)
    assert _add(token, debit_order(), key="same-key")[0] == 201
    status, headers, _ = _add(other_token, debit_order(), key="same-key")
    assert status == 201 and "idempotent-replayed" not in headers
    assert len(_rows(conn, other_id)) == 1


def test_no_token_is_401_on_every_endpoint(conn, netcash):
    some_id = uuid.uuid4()
    for route, body in [
        (LIST, None),
        (CREATE, debit_order()),
        (_update(some_id), {"display_name": "x"}),
        (_delete(some_id), None),
        (_set_primary(some_id), None),
    ]:
        status, headers, problem = call_api(*route, body=body)
        assert status == 401, route
        assert headers["content-type"] == "application/problem+json" and problem["status"] == 401


# --- GET --------------------------------------------------------------------------------------------------


def test_the_list_shows_only_my_active_methods(conn, netcash, customer):
    _customer_id, token = customer
    _other_id, other_token = customer_with_token(conn)
    _, _, mine = _add(token, {"method_type": "eft"})
    _, _, removed = _add(token, card())
    call_api(*_delete(removed["id"]), token=token)
    _add(other_token, {"method_type": "eft"})
    status, _, listed = call_api(*LIST, token=token)
    assert status == 200 and [item["id"] for item in listed] == [mine["id"]]


# --- PATCH ------------------------------------------------------------------------------------------------


def test_a_customer_renames_a_method_and_updates_a_cards_expiry(conn, netcash, customer):
    _, token = customer
    _, _, added = _add(token, card())
    status, _, renamed = call_api(*_update(added["id"]), token=token, body={"display_name": "Travel card"})
    assert status == 200 and renamed["display_name"] == "Travel card"
    status, _, body = call_api(
        *_update(added["id"]), token=token, body={"card_expiry_month": 3, "card_expiry_year": NEXT_YEAR + 2}
    )
    assert status == 200, body
    assert (body["card_expiry_month"], body["card_expiry_year"]) == (3, NEXT_YEAR + 2)


@pytest.mark.parametrize(
    "body",
    [
        {"customer_id": str(uuid.uuid4())},
        {"is_primary": True},
        {"is_active": False},
        {"mandate_status": "accepted"},
        {"mandate_reference": "X"},
        {"account_number_masked": "****0000"},
        {"display_name": "ok", "mandate_signed_at": "2026-01-01T00:00:00Z"},
        {},
        {"card_expiry_month": None},
        {"display_name": "x" * 61},
    ],
)
def test_a_patch_with_any_other_field_is_422_and_changes_nothing(conn, netcash, customer, body):
    customer_id, token = customer
    _, _, added = _add(token, debit_order())
    before = _rows(conn, customer_id)
    status, headers, _ = call_api(*_update(added["id"]), token=token, body=body)
    assert status == 422 and headers["content-type"] == "application/problem+json"
    assert _rows(conn, customer_id) == before


def test_an_expiry_on_a_debit_order_or_in_the_past_is_422(conn, netcash, customer):
    _customer_id, token = customer
    _, _, order = _add(token, debit_order())
    _, _, added = _add(token, card())
    status, _, body = call_api(*_update(order["id"]), token=token, body={"card_expiry_month": 5})
    assert status == 422 and body["field"] == "card_expiry_month"
    status, _, body = call_api(*_update(added["id"]), token=token, body={"card_expiry_year": 2021})
    assert status == 422


def test_patching_another_customers_method_is_404_and_leaves_it_alone(conn, netcash, customer):
    _, token = customer
    other_id, other_token = customer_with_token(conn)
    _, _, theirs = _add(other_token, card(display_name="Theirs"))
    status, _, _ = call_api(*_update(theirs["id"]), token=token, body={"display_name": "Mine now"})
    assert status == 404
    assert _rows(conn, other_id)[0]["display_name"] == "Theirs"


def test_patching_a_removed_method_is_404(conn, netcash, customer):
    _, token = customer
    _, _, added = _add(token, card())
    call_api(*_delete(added["id"]), token=token)
    status, _, _ = call_api(*_update(added["id"]), token=token, body={"display_name": "x"})
    assert status == 404


# --- DELETE -----------------------------------------------------------------------------------------------


def test_deleting_the_primary_deactivates_it_and_promotes_the_newest_collectable(conn, netcash, customer):
    customer_id, token = customer
    _, _, first = _add(token, debit_order())
    _, _, older = _add(token, card(provider_token="tok_live_older_card"))
    _, _, newest = _add(token, card())
    status, _, _ = call_api(*_delete(first["id"]), token=token)
    assert status == 204
    rows = {str(row["id"]): row for row in _rows(conn, customer_id)}
    assert rows[first["id"]]["is_active"] is False and rows[first["id"]]["deactivated_at"] is not None
    assert rows[newest["id"]]["is_primary"] is True and rows[older["id"]]["is_primary"] is False
    # And deleting again changes nothing
    assert call_api(*_delete(first["id"]), token=token)[0] == 204


def test_deleting_the_primary_promotes_only_a_collectable_method(conn, netcash, customer):
    # Given a primary card, an older accepted debit order, and a newer debit order whose mandate was declined
    customer_id, token = customer
    _, _, primary = _add(token, card())
    _, _, accepted = _add(token, debit_order())
    _, _, declined = _add(token, debit_order(account_number="62099998888"))
    conn.execute(
        "update customer_payment_methods set mandate_status = 'accepted' where id = %s", (accepted["id"],)
    )
    conn.execute(
        "update customer_payment_methods set mandate_status = 'declined' where id = %s", (declined["id"],)
    )
    # When the primary card is deleted
    assert call_api(*_delete(primary["id"]), token=token)[0] == 204
    # Then the accepted debit order is promoted, not the newer declined one (set-primary refuses those)
    rows = {str(row["id"]): row for row in _rows(conn, customer_id)}
    assert rows[accepted["id"]]["is_primary"] is True and rows[declined["id"]]["is_primary"] is False


def test_deleting_the_primary_promotes_nothing_when_no_other_method_is_collectable(conn, netcash, customer):
    # Given a primary card and only a declined debit order and an EFT method besides it
    customer_id, token = customer
    _, _, primary = _add(token, card())
    _, _, declined = _add(token, debit_order())
    _add(token, {"method_type": "eft"})
    conn.execute(
        "update customer_payment_methods set mandate_status = 'declined' where id = %s", (declined["id"],)
    )
    # When the primary card is deleted
    assert call_api(*_delete(primary["id"]), token=token)[0] == 204
    # Then no method is primary: nothing left can be collected
    assert [row for row in _rows(conn, customer_id) if row["is_primary"]] == []


def test_deleting_the_only_method_leaves_no_primary(conn, netcash, customer):
    customer_id, token = customer
    _, _, only = _add(token, card())
    assert call_api(*_delete(only["id"]), token=token)[0] == 204
    [row] = _rows(conn, customer_id)
    assert row["is_active"] is False and row["is_primary"] is False


def _unpaid_invoice(conn, customer_id):
    conn.execute("update customer_billing set auto_pay = true where customer_id = %s", (customer_id,))
    conn.execute(
        "insert into customer_invoices (customer_id, kind, invoice_date, due_date, subtotal, vat_rate,"
        " vat_amount, total_amount, status) values (%s, 'one_off', current_date, current_date + 7,"
        " 86.96, 15, 13.04, 100.00, 'issued')",
        (customer_id,),
    )


def test_the_only_debit_order_cannot_go_while_an_invoice_awaits_collection(conn, netcash, customer):
    customer_id, token = customer
    _, _, order = _add(token, debit_order())
    _add(token, card())
    _unpaid_invoice(conn, customer_id)
    status, _, body = call_api(*_delete(order["id"]), token=token)
    assert status == 409 and body["reason"] == "unpaid_invoice_awaiting_collection"
    assert "unpaid invoice" in body["detail"]
    assert _rows(conn, customer_id)[0]["is_active"] is True
    # And with a second debit order it may go
    _add(token, debit_order(account_number="62099998888"))
    assert call_api(*_delete(order["id"]), token=token)[0] == 204


def test_deleting_another_customers_method_is_404_and_leaves_it_alone(conn, netcash, customer):
    _, token = customer
    other_id, other_token = customer_with_token(conn)
    _, _, theirs = _add(other_token, card())
    assert call_api(*_delete(theirs["id"]), token=token)[0] == 404
    assert _rows(conn, other_id)[0]["is_active"] is True


def test_a_malformed_id_is_422(conn, netcash, customer):
    _, token = customer
    assert call_api(*_delete("not-a-uuid"), token=token)[0] == 422


# --- set-primary ------------------------------------------------------------------------------------------


def test_set_primary_makes_it_the_only_primary(conn, netcash, customer):
    customer_id, token = customer
    _, _, first = _add(token, card())
    _, _, second = _add(token, {"method_type": "eft"})
    status, _, body = call_api(*_set_primary(second["id"]), token=token)
    assert status == 200 and body["id"] == second["id"] and body["is_primary"] is True
    primaries = [str(row["id"]) for row in _rows(conn, customer_id) if row["is_primary"]]
    assert primaries == [second["id"]]
    # And again is harmless; with a key, a retry replays
    assert call_api(*_set_primary(second["id"]), token=token)[0] == 200
    headers = {"Idempotency-Key": "primary-1"}
    first_call = call_api(*_set_primary(first["id"]), token=token, headers=headers)
    replay = call_api(*_set_primary(first["id"]), token=token, headers=headers)
    assert first_call[2] == replay[2] and replay[1]["idempotent-replayed"] == "true"
    other_id = call_api(*_set_primary(second["id"]), token=token, headers=headers)
    assert other_id[0] == 422


def test_a_declined_mandate_cannot_be_primary(conn, netcash, customer):
    _customer_id, token = customer
    _add(token, card())
    _, _, order = _add(token, debit_order())
    conn.execute(
        "update customer_payment_methods set mandate_status = 'declined' where id = %s", (order["id"],)
    )
    status, _, body = call_api(*_set_primary(order["id"]), token=token)
    assert status == 409 and body["current_status"] == "declined"


def test_set_primary_on_another_customers_method_is_404_and_leaves_it_alone(conn, netcash, customer):
    _customer_id, token = customer
    _add(token, card())
    other_id, other_token = customer_with_token(conn)
    _, _, theirs = _add(other_token, {"method_type": "eft"})
    _, _, their_second = _add(other_token, card())
    assert call_api(*_set_primary(their_second["id"]), token=token)[0] == 404
    primaries = [str(row["id"]) for row in _rows(conn, other_id) if row["is_primary"]]
    assert primaries == [theirs["id"]]


def test_money_and_amounts_are_strings(conn, netcash, customer):
    _, token = customer
    _, _, body = _add(token, debit_order())
    assert isinstance(body["mandate_amount"], str) and Decimal(body["mandate_amount"]) == Decimal("1098.00")
