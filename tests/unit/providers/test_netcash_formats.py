"""Pure NetCash format tests: SOAP envelopes, mandate data files, mandate postbacks. No network."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest

from isp_billing.errors import ProviderError, ValidationFailed
from isp_billing.providers.netcash import (
    SOAP_ENV_NS,
    TEMPURI_NS,
    BankAccountType,
    MandateRequest,
    MandateStatus,
    add_mandate_params,
    build_soap_envelope,
    mandate_statuses,
    mask_account_number,
    parse_mandate_data,
    parse_mandate_postback,
    parse_soap_result,
    result_text,
)

ACCOUNT_NUMBER = "62000012345"


def _row(status: str, account_ref: str, agreement_ref: str = "", field1: str = "", active: str = "1") -> str:
    columns = [""] * 41
    columns[0], columns[1], columns[15], columns[18], columns[30] = (
        status,
        account_ref,
        agreement_ref,
        active,
        field1,
    )
    return "\t".join(columns)


def _request(**changes: object) -> MandateRequest:
    values: dict[str, object] = {
        "account_reference": "CUST0001",
        "mandate_name": "Thandi Mokoena",
        "mandate_amount": Decimal("799"),
        "first_name": "Thandi",
        "surname": "Mokoena",
        "mobile_number": "0825551234",
        "email_address": "thandi@example.co.za",
        "bank_account_name": "T Mokoena",
        "bank_account_number": ACCOUNT_NUMBER,
        "branch_code": "250655",
        "account_type": BankAccountType.CHEQUE,
        "agreement_date": date(2026, 3, 1),
        "agreement_reference": "pm-123",
        "field1": "pm-123",
        "commencement_month": 4,
        "commencement_day": "1",
    }
    values.update(changes)
    return MandateRequest(**values)  # type: ignore[arg-type]


# -- SOAP ----------------------------------------------------------------------------------------------------


def test_envelope_puts_parameters_in_order_under_the_tempuri_method_and_escapes_values() -> None:
    # Given parameters with XML metacharacters
    params = [("ServiceKey", "key"), ("AccountReference", "A&B <x>"), ("Field1", "pm-1")]

    # When the envelope is built
    root = ET.fromstring(build_soap_envelope("AddMandate", params))  # noqa: S314 (our own output)

    # Then the body holds the method in the tempuri namespace with the parameters in order, values intact
    body = root.find(f"{{{SOAP_ENV_NS}}}Body")
    assert body is not None
    call = body.find(f"{{{TEMPURI_NS}}}AddMandate")
    assert call is not None
    assert [(child.tag.split("}")[1], child.text) for child in call] == params


def test_result_is_found_whatever_the_namespace_prefixes() -> None:
    # Given a reply with unusual prefixes, as different WCF stacks produce
    reply = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<t:ValidateBankAccountResponse xmlns:t="http://tempuri.org/">'
        "<t:ValidateBankAccountResult>0</t:ValidateBankAccountResult>"
        "</t:ValidateBankAccountResponse></soap:Body></soap:Envelope>"
    )

    # When it is parsed
    result = parse_soap_result(reply, "ValidateBankAccount")

    # Then the result text is read
    assert result_text(result) == "0"


@pytest.mark.parametrize(
    "reply",
    [
        "not xml at all",
        "<html><body>Service Unavailable</body></html>",
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>',
        '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
    ],
)
def test_unreadable_replies_are_provider_errors(reply: str) -> None:
    # Given a reply that is not a SOAP result
    # When it is parsed
    with pytest.raises(ProviderError) as caught:
        parse_soap_result(reply, "ValidateBankAccount")

    # Then the error names the method only
    assert "ValidateBankAccount" in str(caught.value)


def test_soap_fault_is_a_provider_error_without_the_fault_text() -> None:
    # Given a SOAP fault whose text echoes input
    reply = (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
        f"<faultcode>s:Client</faultcode><faultstring>bad {ACCOUNT_NUMBER}</faultstring>"
        "</s:Fault></s:Body></s:Envelope>"
    )

    # When it is parsed
    with pytest.raises(ProviderError) as caught:
        parse_soap_result(reply, "AddMandate")

    # Then the message does not carry the echoed input
    assert ACCOUNT_NUMBER not in str(caught.value)
    assert caught.value.extra["code"] == "soap_fault"


def test_add_mandate_params_follow_wsdl_order_and_netcash_encodings() -> None:
    # Given a mandate request
    request = _request()

    # When its parameters are built
    params = add_mandate_params("service-key", request)

    # Then they are in WSDL order with NetCash's encodings
    names = [name for name, _ in params]
    assert names == [
        "ServiceKey",
        "AccountReference",
        "MandateName",
        "MandateAmount",
        "IsConsumer",
        "FirstName",
        "Surname",
        "MobileNumber",
        "DebitFrequency",
        "CommencementMonth",
        "CommencementDay",
        "AgreementDate",
        "AgreementReferenceNumber",
        "Field1",
        "BankDetailType",
        "BankAccountName",
        "BankAccountNumber",
        "BranchCode",
        "BankAccountType",
        "EmailAddress",
        "MandateActive",
        "IncludeDebiCheck",
        "AddToMasterFile",
    ]
    values = dict(params)
    assert values["MandateAmount"] == "799.00"
    assert values["CommencementDay"] == "01"
    assert values["AgreementDate"] == "20260301"
    assert values["BankAccountType"] == "Current"
    assert values["DebitFrequency"] == "Monthly"
    assert (values["IsConsumer"], values["IncludeDebiCheck"], values["MandateActive"]) == (
        "true",
        "false",
        "true",
    )
    assert values["BankAccountNumber"] == ACCOUNT_NUMBER


def test_mandate_request_repr_masks_the_account_number_and_hides_personal_data() -> None:
    # Given a mandate request
    request = _request()

    # When it is rendered
    text = repr(request) + str(request)

    # Then only the masked account number and our ids appear
    assert ACCOUNT_NUMBER not in text
    assert "****2345" in text
    assert "Thandi" not in text
    assert "thandi@example.co.za" not in text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mandate_amount": Decimal("0")}, "mandate_amount"),
        ({"mandate_amount": Decimal("799.005")}, "mandate_amount"),
        ({"commencement_month": 13}, "commencement_month"),
        ({"commencement_day": "32"}, "commencement_day"),
        ({"field1": " "}, "field1"),
        ({"account_type": "credit"}, "account_type"),
    ],
)
def test_mandate_request_rejects_bad_values(changes: dict[str, object], field: str) -> None:
    # Given / When a request with a bad value is built
    with pytest.raises(ValidationFailed) as caught:
        _request(**changes)

    # Then the failure names the field
    assert caught.value.extra["field"] == field


def test_account_type_accepts_our_names_and_netcash_current() -> None:
    # Given / When / Then our names and NetCash's "Current" map to the codes NetCash uses
    assert BankAccountType.parse("cheque").netcash_code == 1
    assert BankAccountType.parse("Current") is BankAccountType.CHEQUE
    assert BankAccountType.parse("SAVINGS").netcash_name == "Savings"
    assert BankAccountType.parse("transmission").netcash_code == 3


def test_mask_account_number_keeps_last_four() -> None:
    # Given / When / Then
    assert mask_account_number(ACCOUNT_NUMBER) == "****2345"
    assert mask_account_number("123") == "****"


# -- Mandate data file ---------------------------------------------------------------------------------------


def test_mandate_data_file_maps_status_codes_and_keys_by_field1() -> None:
    # Given a file with CRLF endings and every kind of status
    lines = [
        "###BEGIN\t20260301",
        _row("6", "C1", "pm-1", "pm-1"),
        _row("5", "C2", "pm-2", "pm-2"),
        _row("3", "C3", "pm-3", "pm-3"),
        _row("4", "C4", "pm-4", "pm-4"),
        _row("2", "C5", "pm-5", "pm-5"),
        _row("11", "C6", "pm-6", "pm-6"),
        "###END",
    ]

    # When it is parsed
    statuses = mandate_statuses(parse_mandate_data("\r\n".join(lines)))

    # Then each NetCash code maps to our status
    assert statuses == {
        "pm-1": MandateStatus.ACCEPTED,
        "pm-2": MandateStatus.DECLINED,
        "pm-3": MandateStatus.EXPIRED,
        "pm-4": MandateStatus.DECLINED,
        "pm-5": MandateStatus.PENDING,
        "pm-6": MandateStatus.PENDING,
    }


@pytest.mark.parametrize("code", ["1", "2", "7", "8", "9", "10", "11"])
def test_waiting_codes_are_pending(code: str) -> None:
    # Given a row with a code that still waits on the customer or NetCash
    text = f"###BEGIN\t20260301\n{_row(code, 'C1', 'pm-1', 'pm-1')}\n###END"

    # When / Then
    assert mandate_statuses(parse_mandate_data(text)) == {"pm-1": MandateStatus.PENDING}


def test_encoded_carriage_returns_and_short_rows_fall_back_to_agreement_reference() -> None:
    # Given `&#xD;` left in the text and a row too short to carry Field1
    short_row = "\t".join(["6", "C9"] + [""] * 13 + ["pm-9"])
    text = "###BEGIN\t20260301&#xD;\n" + short_row + "&#xD;\n###END&#xD;\n"

    # When it is parsed
    rows = parse_mandate_data(text)

    # Then the row is read and keyed by its agreement reference
    assert [(r.status_code, r.field1, r.agreement_reference) for r in rows] == [(6, None, "pm-9")]
    assert mandate_statuses(rows) == {"pm-9": MandateStatus.ACCEPTED}


def test_inactive_accepted_mandate_reads_as_cancelled() -> None:
    # Given an accepted mandate whose active flag is off
    text = f"###BEGIN\t20260301\n{_row('6', 'C1', 'pm-1', 'pm-1', active='0')}\n###END"

    # When / Then
    assert mandate_statuses(parse_mandate_data(text)) == {"pm-1": MandateStatus.CANCELLED}


def test_empty_mandate_data_file_has_no_statuses() -> None:
    # Given / When / Then
    assert parse_mandate_data("###BEGIN\t20260301\r\n###END\r\n") == []


@pytest.mark.parametrize("text", ["", "6\tC1\n", "###BEGIN\t20260301\n" + "6\tC1"])
def test_incomplete_mandate_data_file_is_a_provider_error(text: str) -> None:
    # Given a file missing its markers
    # When / Then
    with pytest.raises(ProviderError):
        parse_mandate_data(text)


# -- Postbacks -----------------------------------------------------------------------------------------------


def _postback(**fields: str) -> dict[str, str]:
    base = {
        "MandateSuccessful": "1",
        "IsDeclined": "0",
        "ReasonForDecline": "",
        "IsActive": "True",
        "AccountRef": "CUST0001",
        "Field1": "pm-123",
        "MandateReferenceNumber": "MR0001",
        "BankAccountNo": "620*******5",
    }
    base.update(fields)
    return base


def test_accepted_postback() -> None:
    # Given a successful postback
    # When it is parsed
    postback = parse_mandate_postback(_postback())

    # Then it is an accepted hint for our payment method
    assert postback.status is MandateStatus.ACCEPTED
    assert postback.payment_method_id == "pm-123"
    assert postback.mandate_reference == "MR0001"
    assert postback.account_reference == "CUST0001"
    assert postback.reason_for_decline is None


def test_declined_postback_with_true_false_booleans() -> None:
    # Given a decline with True/False booleans
    form = _postback(MandateSuccessful="False", IsDeclined="True", ReasonForDecline="Customer declined")

    # When it is parsed
    postback = parse_mandate_postback(form)

    # Then it is declined with the reason
    assert postback.status is MandateStatus.DECLINED
    assert postback.reason_for_decline == "Customer declined"


def test_cancelled_postback() -> None:
    # Given neither success nor decline, and the mandate inactive
    form = _postback(MandateSuccessful="0", IsDeclined="0", IsActive="False")

    # When / Then
    assert parse_mandate_postback(form).status is MandateStatus.CANCELLED


def test_delivery_id_is_stable_and_distinguishes_outcomes() -> None:
    # Given the same postback twice and a different outcome for the same mandate
    first = parse_mandate_postback(_postback())
    again = parse_mandate_postback(_postback(BankAccountNo="different"))
    declined = parse_mandate_postback(_postback(MandateSuccessful="0", IsDeclined="1"))

    # When / Then redeliveries share an id and other outcomes do not
    assert first.delivery_id == again.delivery_id
    assert first.delivery_id != declined.delivery_id
    assert len(first.delivery_id) == 64


@pytest.mark.parametrize(
    "form",
    [
        {},
        _postback(MandateSuccessful="maybe"),
        _postback(MandateSuccessful="1", IsDeclined="1"),
        _postback(MandateSuccessful="0", IsDeclined="0", IsActive="True"),
        _postback(Field1=""),
        {k: v for k, v in _postback().items() if k != "MandateSuccessful"},
    ],
)
def test_malformed_postbacks_are_rejected(form: dict[str, str]) -> None:
    # Given a postback we cannot classify
    # When / Then
    with pytest.raises(ValidationFailed):
        parse_mandate_postback(form)
