"""The fuzzer's NUL and control-character findings, through the real handlers: 422, nothing written, no
provider called."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from isp_billing_cli.fakes import interstellio as fake_interstellio
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token, insert_service
from tests.lifecycle_helpers import fake_interstellio_for_functions, log_rows, service_row, service_with_line
from tests.netcash_env import running_fake

CREATE = ("CustomerPaymentMethodCreateFunction", "POST", "/api/customer/payment-methods")


@pytest.fixture
def netcash(clean_db, monkeypatch):
    yield from running_fake(monkeypatch)


@pytest.fixture
def interstellio(conn) -> Iterator[fake_interstellio.FakeInterstellio]:
    with fake_interstellio_for_functions() as server:
        yield server


def _methods(conn, customer_id: str) -> list[dict]:
    return conn.execute(
        "select display_name, bank_name from customer_payment_methods where customer_id = %s", (customer_id,)
    ).fetchall()


def _assert_text_refused(status: int, headers: dict, body: dict, field: str) -> None:
    assert status == 422, body
    assert headers["content-type"] == "application/problem+json"
    assert headers["x-request-id"]
    assert field in {error["loc"][-1] for error in body["errors"]}
    assert "\u0000" not in str(body)


@pytest.mark.parametrize("method_type", ["eft", "card"])
def test_a_nul_in_a_new_methods_display_name_is_422_and_nothing_is_stored(conn, method_type):
    # Given a customer
    customer_id, token = customer_with_token(conn)
    body = {"method_type": method_type, "display_name": "Mine\u0000"}
    if method_type == "card":
        body |= {"provider_token": "tok_live_9f8e7d6c5b4a", "card_brand": "visa", "card_last4": "4242"}
        body |= {"card_expiry_month": 12, "card_expiry_year": 2100}
    # When they add a method whose name holds a NUL
    status, headers, answer = call_api(*CREATE, token=token, body=body)
    # Then it is a 422 naming display_name, and no row exists
    _assert_text_refused(status, headers, answer, "display_name")
    assert _methods(conn, customer_id) == []


@pytest.mark.parametrize(
    "field,value",
    [("bank_name", "FNB\u0007"), ("account_holder", "T\u0014Mokoena"), ("bank_name", "FNB\u0000")],
)
def test_control_characters_in_a_debit_order_never_reach_netcash(conn, netcash, field, value):
    # Given a customer with a billable service
    customer_id, token = customer_with_token(conn)
    insert_service(conn, customer_id)
    body = {
        "method_type": "debit_order",
        "bank_name": "FNB",
        "branch_code": "250655",
        "account_type": "cheque",
        "account_number": "62012345678",
        "account_holder": "T Mokoena",
        field: value,
    }
    # When the debit order carries a control character
    status, headers, answer = call_api(*CREATE, token=token, body=body)
    # Then it is 422 before NetCash is asked anything, and nothing is stored
    _assert_text_refused(status, headers, answer, field)
    assert netcash.requests == []
    assert _methods(conn, customer_id) == []


@pytest.mark.parametrize(
    "display_name", ["Mine\u0000", "4111.1111.1111.1111", "4111/1111/1111/1111", "4111_1111_1111_1111"]
)
def test_a_patch_cannot_store_a_nul_or_a_punctuated_card_number(conn, display_name):
    # Given an EFT method
    customer_id, token = customer_with_token(conn)
    status, _, created = call_api(*CREATE, token=token, body={"method_type": "eft", "display_name": "EFT"})
    assert status == 201
    # When the customer renames it to a NUL or a card number
    status, headers, answer = call_api(
        "CustomerPaymentMethodUpdateFunction",
        "PATCH",
        f"/api/customer/payment-methods/{created['id']}",
        token=token,
        body={"display_name": display_name},
    )
    # Then it is 422 and the name is unchanged
    assert status == 422, answer
    assert headers["content-type"] == "application/problem+json"
    assert _methods(conn, customer_id) == [{"display_name": "EFT", "bank_name": None}]


@pytest.mark.parametrize("action", ["suspend", "cancel", "activate", "reactivate"])
def test_a_nul_in_a_lifecycle_reason_is_422_before_interstellio_and_nothing_changes(
    conn, interstellio, action
):
    # Given a service in a state the action starts from, with its Interstellio line
    start = {"suspend": "active", "cancel": "active", "activate": "pending", "reactivate": "suspended"}[
        action
    ]
    _, token = admin_with_token(conn, role="super_admin")
    service_id, _ = service_with_line(conn, interstellio, status=start)
    body = (
        {"reason": "a\u0000", "suspension_type": "technical"}
        if action == "suspend"
        else {"reason": "a\u0000"}
    )
    function = f"AdminService{action.capitalize()}Function"
    # When the admin gives a reason holding a NUL
    status, headers, answer = call_api(
        function, "POST", f"/api/admin/services/{service_id}/{action}", token=token, body=body
    )
    # Then it is 422; Interstellio was not called; the service, its audit log are untouched
    _assert_text_refused(status, headers, answer, "reason")
    assert [r for r in interstellio.requests if getattr(r, "method", "") == "PATCH"] == []
    assert service_row(conn, service_id)["status"] == start
    assert log_rows(conn, service_id) == []


@pytest.mark.parametrize(
    "function,path",
    [
        ("AdminReviewQueueDismissFunction", "/api/admin/review-queue/{id}/dismiss"),
        ("AdminValidationErrorResolveFunction", "/api/admin/validation-errors/{id}/resolve"),
    ],
)
def test_a_nul_in_an_admin_note_is_422(conn, function, path):
    _, token = admin_with_token(conn, role="super_admin")
    status, headers, answer = call_api(
        function, "POST", path.format(id=uuid.uuid4()), token=token, body={"note": "fixed\u0000"}
    )
    _assert_text_refused(status, headers, answer, "note")


@pytest.mark.parametrize("source", ["a%00", "a%14", "a%1B"])
def test_a_control_character_in_the_source_filter_is_422(conn, source):
    _, token = admin_with_token(conn, role="support")
    status, headers, answer = call_api(
        "AdminValidationErrorsListFunction",
        "GET",
        "/api/admin/validation-errors",
        token=token,
        query=f"source={source}",
    )
    _assert_text_refused(status, headers, answer, "source")
