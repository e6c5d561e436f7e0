"""NetCash client against the local fake NIWS server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar
from urllib.parse import parse_qsl

import httpx
import pytest

from isp_billing.errors import ConfigurationError, ProviderError, ValidationFailed
from isp_billing.providers.netcash import (
    BankAccountType,
    MandateProvider,
    MandateRequest,
    MandateStatus,
    NetcashClient,
    netcash_client_from_settings,
    parse_mandate_postback,
)
from isp_billing.settings import Settings
from isp_billing_cli.fakes import netcash as fake_netcash

DEBIT_KEY = "11111111-2222-3333-4444-555555555555"
ACCOUNT_KEY = "66666666-7777-8888-9999-000000000000"
ACCOUNT_NUMBER = "62000012345"


@pytest.fixture
def fake() -> Iterator[fake_netcash.FakeNetcash]:
    server = fake_netcash.start(debit_order_service_key=DEBIT_KEY, account_service_key=ACCOUNT_KEY)
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def _settings(fake: fake_netcash.FakeNetcash, **changes: object) -> Settings:
    values: dict[str, object] = {
        "netcash_base_url": fake.url + "/NIWS",
        "netcash_debit_order_service_key": DEBIT_KEY,
        "netcash_account_service_key": ACCOUNT_KEY,
        "netcash_timeout_seconds": 0.2,
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def client(fake: fake_netcash.FakeNetcash, sleeps: list[float]) -> Iterator[NetcashClient]:
    built = netcash_client_from_settings(_settings(fake), poll_attempts=3, sleep=sleeps.append)
    yield built
    built.close()


def _request(field1: str = "pm-123", **changes: object) -> MandateRequest:
    values: dict[str, object] = {
        "account_reference": "CUST0001",
        "mandate_name": "Thandi Mokoena",
        "mandate_amount": Decimal("799.00"),
        "first_name": "Thandi",
        "surname": "Mokoena",
        "mobile_number": "0825551234",
        "email_address": "thandi@example.co.za",
        "bank_account_name": "T Mokoena",
        "bank_account_number": ACCOUNT_NUMBER,
        "branch_code": "250655",
        "account_type": BankAccountType.SAVINGS,
        "agreement_date": date(2026, 3, 1),
        "agreement_reference": field1,
        "field1": field1,
        "commencement_month": 4,
    }
    values.update(changes)
    return MandateRequest(**values)  # type: ignore[arg-type]


def _assert_no_secrets(error: BaseException) -> None:
    text = str(error) + repr(error) + repr(getattr(error, "extra", {}))
    for secret in (DEBIT_KEY, ACCOUNT_KEY, ACCOUNT_NUMBER, "Thandi", "thandi@example.co.za", "0825551234"):
        assert secret not in text


# -- ValidateBankAccount -------------------------------------------------------------------------------------


def test_valid_bank_account_passes(client: NetcashClient, fake: fake_netcash.FakeNetcash) -> None:
    # Given a well-formed account
    # When it is validated
    client.validate_bank_account(ACCOUNT_NUMBER, "250655", "cheque")

    # Then NetCash was asked once, with the Account key and the numeric account type
    [call] = fake.requests
    assert (call.service, call.method) == ("NIWS_Validation.svc", "ValidateBankAccount")
    assert call.params == {
        "ServiceKey": ACCOUNT_KEY,
        "AccountNumber": ACCOUNT_NUMBER,
        "BranchCode": "250655",
        "AccountType": "1",
    }
    assert call.soap_action == '"http://tempuri.org/INIWS_Validation/ValidateBankAccount"'
    assert ACCOUNT_NUMBER not in repr(call)


@pytest.mark.parametrize(
    ("account_number", "branch_code", "code", "field", "phrase"),
    [
        (ACCOUNT_NUMBER, "25065", "1", "branch_code", "invalid branch code"),
        ("620000120000", "250655", "2", "account_number", "check-digit"),
        ("", "250655", "4", "bank_account", "incorrect"),
    ],
)
def test_validation_result_codes_raise_field_level_errors(
    client: NetcashClient, account_number: str, branch_code: str, code: str, field: str, phrase: str
) -> None:
    # Given account details NetCash rejects
    # When they are validated
    with pytest.raises(ValidationFailed) as caught:
        client.validate_bank_account(account_number, branch_code, BankAccountType.SAVINGS)

    # Then the error names the field and carries NetCash's code, not the number
    assert caught.value.extra == {"field": field, "provider_code": code}
    assert phrase in str(caught.value)
    _assert_no_secrets(caught.value)


def test_validation_code_3_is_invalid_account_type(
    fake: fake_netcash.FakeNetcash, client: NetcashClient
) -> None:
    # Given NetCash answers 3 (our client only sends valid types, so the fake is told to)
    fake.fail_next("error_code", code="3")

    # When an account is validated
    with pytest.raises(ValidationFailed) as caught:
        client.validate_bank_account(ACCOUNT_NUMBER, "250655", "transmission")

    # Then the account type is blamed
    assert caught.value.extra["field"] == "account_type"
    assert "invalid account type" in str(caught.value)


def test_wrong_account_key_is_a_provider_error(fake: fake_netcash.FakeNetcash) -> None:
    # Given a client with a wrong Account service key
    client = netcash_client_from_settings(_settings(fake, netcash_account_service_key="wrong-key-value"))

    # When an account is validated
    with client, pytest.raises(ProviderError) as caught:
        client.validate_bank_account(ACCOUNT_NUMBER, "250655", "cheque")

    # Then it is an authentication failure that does not echo the key
    assert caught.value.extra["code"] == "100"
    assert "wrong-key-value" not in str(caught.value)
    _assert_no_secrets(caught.value)


def test_unexpected_validation_result_is_a_provider_error(
    fake: fake_netcash.FakeNetcash, client: NetcashClient
) -> None:
    # Given NetCash answers a general error
    fake.fail_next("error_code", code="200")

    # When / Then
    with pytest.raises(ProviderError) as caught:
        client.validate_bank_account(ACCOUNT_NUMBER, "250655", "cheque")
    assert caught.value.extra["code"] == "200"


def test_missing_service_key_is_a_configuration_error(fake: fake_netcash.FakeNetcash) -> None:
    # Given no Account service key configured
    client = NetcashClient(
        base_url=fake.url + "/NIWS", debit_order_service_key=DEBIT_KEY, account_service_key=None
    )

    # When / Then the setting is named and nothing is sent
    with pytest.raises(ConfigurationError, match="NETCASH_ACCOUNT_SERVICE_KEY"):
        client.validate_bank_account(ACCOUNT_NUMBER, "250655", "cheque")
    assert fake.requests == []


# -- Transport failures --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "code"), [("http_500", "http_error"), ("timeout", "timeout")])
def test_transport_failures_are_provider_errors(
    fake: fake_netcash.FakeNetcash, client: NetcashClient, kind: str, code: str
) -> None:
    # Given NetCash fails the next call
    fake.fail_next(kind)

    # When a mandate is added
    with pytest.raises(ProviderError) as caught:
        client.add_mandate(_request())

    # Then it is a provider error without secrets
    assert caught.value.extra["code"] == code
    _assert_no_secrets(caught.value)


def test_malformed_reply_is_a_provider_error(fake: fake_netcash.FakeNetcash, client: NetcashClient) -> None:
    # Given NetCash answers HTML instead of SOAP
    fake.fail_next("malformed")

    # When / Then
    with pytest.raises(ProviderError, match="not XML") as caught:
        client.validate_bank_account(ACCOUNT_NUMBER, "250655", "cheque")
    _assert_no_secrets(caught.value)


def test_connection_refused_is_a_provider_error(fake: fake_netcash.FakeNetcash) -> None:
    # Given a fake that has stopped listening
    settings = _settings(fake)
    fake.stop()

    # When / Then
    with netcash_client_from_settings(settings) as client, pytest.raises(ProviderError) as caught:
        client.validate_bank_account(ACCOUNT_NUMBER, "250655", "cheque")
    assert caught.value.extra["code"] in {"unreachable", "timeout"}


# -- AddMandate ----------------------------------------------------------------------------------------------


def test_add_mandate_returns_the_signing_url_and_sends_every_field(
    fake: fake_netcash.FakeNetcash, client: NetcashClient
) -> None:
    # Given a mandate request
    request = _request()

    # When it is added
    result = client.add_mandate(request)

    # Then the customer gets a NetCash signing URL and the fake recorded the mandate under Field1
    assert result.mandate_url.startswith(f"{fake.url}/mandate/")
    assert result.warnings == []
    assert fake.mandates["pm-123"].status_code == 2
    [call] = fake.requests
    assert call.soap_action == '"http://tempuri.org/INIWS_NIF/AddMandate"'
    assert call.params["ServiceKey"] == DEBIT_KEY
    assert call.params["BankAccountNumber"] == ACCOUNT_NUMBER
    assert call.params["MandateAmount"] == "799.00"
    assert call.params["BankAccountType"] == "Savings"
    assert call.params["AgreementReferenceNumber"] == "pm-123"
    assert call.params["AddToMasterFile"] == "true"


def test_add_mandate_error_code_is_a_provider_error_carrying_the_code(
    fake: fake_netcash.FakeNetcash, client: NetcashClient
) -> None:
    # Given NetCash rejects the mandate with a general error
    fake.fail_next("error_code", code="200")

    # When it is added
    with pytest.raises(ProviderError) as caught:
        client.add_mandate(_request())

    # Then the error carries the code and no account number
    assert caught.value.extra["code"] == "200"
    assert "200" in str(caught.value)
    _assert_no_secrets(caught.value)


def test_add_mandate_with_wrong_debit_order_key_is_code_100(fake: fake_netcash.FakeNetcash) -> None:
    # Given a wrong Debit Order key
    client = netcash_client_from_settings(_settings(fake, netcash_debit_order_service_key="not-the-key"))

    # When a mandate is added
    with client, pytest.raises(ProviderError) as caught:
        client.add_mandate(_request())

    # Then it is an authentication failure
    assert caught.value.extra["code"] == "100"
    _assert_no_secrets(caught.value)


# -- Mandate data polling and postbacks ----------------------------------------------------------------------


def test_mandate_statuses_poll_past_file_not_ready(
    fake: fake_netcash.FakeNetcash, client: NetcashClient, sleeps: list[float]
) -> None:
    # Given two mandates, one signed and one declined
    client.add_mandate(_request("pm-1"))
    client.add_mandate(_request("pm-2"))
    fake.sign_mandate("pm-1", "accepted")
    fake.sign_mandate("pm-2", "declined")

    # When the statuses are retrieved
    statuses = client.retrieve_mandate_statuses()

    # Then the first poll was FILE NOT READY (one sleep) and statuses are keyed by Field1
    assert statuses == {"pm-1": MandateStatus.ACCEPTED, "pm-2": MandateStatus.DECLINED}
    assert len(sleeps) == 1
    methods = [call.method for call in fake.requests[2:]]
    assert methods == ["RequestMandateData", "RetrieveMandateData", "RetrieveMandateData"]


def test_mandate_statuses_give_up_after_bounded_polls(
    fake: fake_netcash.FakeNetcash, client: NetcashClient, sleeps: list[float]
) -> None:
    # Given NetCash never finishes the file
    fake.not_ready_polls = 100

    # When the statuses are retrieved
    with pytest.raises(ProviderError) as caught:
        client.retrieve_mandate_statuses()

    # Then the client stopped after its 3 polls
    assert caught.value.extra["code"] == "file_not_ready"
    assert len(sleeps) == 2
    assert [c.method for c in fake.requests].count("RetrieveMandateData") == 3


def test_pending_expired_and_cancelled_mandates(
    fake: fake_netcash.FakeNetcash, client: NetcashClient
) -> None:
    # Given one unsigned, one expired and one signed-then-cancelled mandate
    for field1 in ("pm-a", "pm-b", "pm-c"):
        client.add_mandate(_request(field1))
    fake.expire_mandate("pm-b")
    fake.sign_mandate("pm-c", "accepted")
    fake.sign_mandate("pm-c", "cancelled")

    # When the statuses are retrieved
    statuses = client.retrieve_mandate_statuses()

    # Then each reads as our status
    assert statuses == {
        "pm-a": MandateStatus.PENDING,
        "pm-b": MandateStatus.EXPIRED,
        "pm-c": MandateStatus.CANCELLED,
    }


def test_request_mandate_data_error_code_is_a_provider_error(
    fake: fake_netcash.FakeNetcash, client: NetcashClient
) -> None:
    # Given NetCash refuses to prepare the file
    fake.fail_next("error_code", code="200")

    # When / Then
    with pytest.raises(ProviderError) as caught:
        client.retrieve_mandate_statuses()
    assert caught.value.extra["code"] == "200"


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ("accepted", MandateStatus.ACCEPTED),
        ("declined", MandateStatus.DECLINED),
        ("cancelled", MandateStatus.CANCELLED),
    ],
)
def test_postback_from_the_fake_is_confirmed_by_mandate_data(
    fake: fake_netcash.FakeNetcash, client: NetcashClient, outcome: str, status: MandateStatus
) -> None:
    # Given a mandate the customer acts on
    client.add_mandate(_request("pm-9"))
    if outcome == "cancelled":
        fake.sign_mandate("pm-9", "accepted")
    form = fake.sign_mandate("pm-9", outcome)  # type: ignore[arg-type]

    # When the postback is parsed and then confirmed over the API
    postback = client.parse_mandate_postback(form)
    confirmed = client.retrieve_mandate_statuses()

    # Then the hint and the truth agree, and the postback does not carry the account number
    assert postback.status is status
    assert postback.payment_method_id == "pm-9"
    assert confirmed["pm-9"] is status
    assert ACCOUNT_NUMBER not in repr(postback)
    assert ACCOUNT_NUMBER not in "".join(form.values())


class _Receiver(BaseHTTPRequestHandler):
    """Stands in for our webhook: keeps each form-encoded body it is sent."""

    received: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        assert self.headers["Content-Type"] == "application/x-www-form-urlencoded"
        self.received.append(dict(parse_qsl(body, keep_blank_values=True)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


def test_sign_mandate_posts_the_form_to_the_configured_url(
    fake: fake_netcash.FakeNetcash, client: NetcashClient
) -> None:
    # Given a mandate and a receiver configured as the postback URL
    client.add_mandate(_request("pm-7"))
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    fake.postback_url = f"http://127.0.0.1:{receiver.server_address[1]}/webhooks/netcash/mandates"
    _Receiver.received.clear()
    try:
        # When the customer signs
        fields = fake.sign_mandate("pm-7", "accepted")
    finally:
        receiver.shutdown()
        receiver.server_close()

    # Then the same fields were posted form-encoded and parse as an accepted mandate
    assert [sent.status_code for sent in fake.postbacks_sent] == [200]
    assert _Receiver.received == [fields]
    assert parse_mandate_postback(_Receiver.received[0]).status is MandateStatus.ACCEPTED


def test_the_mandate_pages_decline_button_posts_a_declined_postback(
    fake: fake_netcash.FakeNetcash, client: NetcashClient
) -> None:
    # Given a mandate awaiting signature, and a receiver configured as the postback URL
    url = client.add_mandate(_request("pm-8")).mandate_url
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    fake.postback_url = f"http://127.0.0.1:{receiver.server_address[1]}/webhooks/netcash/mandates"
    _Receiver.received.clear()
    try:
        # When the customer opens the page and presses Decline (the form posts to the page itself)
        page = httpx.get(url)
        answer = httpx.post(url, data={"outcome": "declined"})
        unknown = httpx.get(url.rsplit("/", 1)[0] + "/no-such-token")
        bad = httpx.post(url, data={"outcome": "maybe"})
    finally:
        receiver.shutdown()
        receiver.server_close()
    # Then the page offered both buttons, without the account number; the answer shows the decline
    assert "value='accepted'>Sign</button>" in page.text and "value='declined'>Decline</button>" in page.text
    assert ACCOUNT_NUMBER not in page.text and "Thandi" not in page.text
    assert answer.status_code == 200 and "<b id='status'>declined</b>" in answer.text
    assert "<form" not in answer.text
    # And NetCash's postback went out, declined, and the mandate data agrees
    assert [parse_mandate_postback(form).status for form in _Receiver.received] == [MandateStatus.DECLINED]
    assert client.retrieve_mandate_statuses()["pm-8"] is MandateStatus.DECLINED
    # And an unknown page is 404, an unknown outcome 400
    assert unknown.status_code == 404 and bad.status_code == 400


def test_client_satisfies_the_mandate_provider_protocol(client: NetcashClient) -> None:
    # Given the protocol services depend on
    # When the client is used through it
    provider: MandateProvider = client

    # Then it is the same object, with no secrets in its repr
    assert provider is client
    assert DEBIT_KEY not in repr(client) and ACCOUNT_KEY not in repr(client)
