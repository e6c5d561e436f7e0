"""The card guard at its edges (issue 10, section 6): every forbidden field name, the shortest and longest
card lengths, Luhn's doubling, where a finding is reported, and the request dependency itself. Each test pins
a rule a mutant of card_data.py would break."""

import asyncio

import pytest
from starlette.requests import Request

from isp_billing.card_data import (
    CARD_DATA_REFUSED,
    _refuse_card_data_in_body,
    card_data_fields,
    contains_card_number,
    luhn_valid,
    refuse_card_data,
)
from isp_billing.errors import ValidationFailed

FORBIDDEN_NAMES = [
    "cvv",
    "cvv2",
    "cvc",
    "cvc2",
    "cid",
    "csc",
    "securitycode",
    "cardsecuritycode",
    "cardverificationvalue",
    "cardverificationcode",
    "cardnumber",
    "cardno",
    "ccnumber",
    "creditcardnumber",
    "pan",
    "primaryaccountnumber",
]


@pytest.mark.parametrize("name", FORBIDDEN_NAMES)
def test_every_forbidden_field_name_is_refused_whatever_its_value(name):
    # Given a body with that key holding a harmless value, at the top and nested
    # When scanned / Then the key is named wherever it is
    assert card_data_fields({name: "x"}) == [name]
    assert card_data_fields({"card": {name: 1}}) == [f"card.{name}"]


@pytest.mark.parametrize(
    "name", ["CVV", "Card-Number", "card_no", "Security Code", "PAN", "credit.card.number", "Cvc2"]
)
def test_forbidden_names_are_matched_whatever_their_case_and_separators(name):
    assert card_data_fields({name: None}) == [name]


@pytest.mark.parametrize("name", ["panel", "cvv_hint", "card", "number", "card_last4", "pan_id", "cidr"])
def test_names_that_merely_contain_a_forbidden_name_are_not_refused(name):
    assert card_data_fields({name: "ok"}) == []


@pytest.mark.parametrize(
    ("number", "is_card"),
    [
        ("400000000002", False),  # 12 digits, Luhn-valid: too short for a card
        ("4000000000006", True),  # 13 digits: the shortest card
        ("4000000000000000006", True),  # 19 digits: the longest card
        ("40000000000000000002", False),  # 20 digits, Luhn-valid: too long for a card
        ("4000000000007", False),  # 13 digits failing Luhn
    ],
)
def test_card_lengths_are_13_to_19_digits(number, is_card):
    # Given Luhn-valid (or not) numbers just inside and just outside 13-19 digits
    # When scanned as text and as a JSON number / Then only the 13-19 digit valid ones are cards
    assert contains_card_number(number) is is_card
    assert (card_data_fields({"n": int(number)}) == ["n"]) is is_card


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("79927398713", True),  # the textbook example
        ("79927398710", False),
        ("0", True),
        ("18", True),  # 1 doubled is 2, + 8 = 10
        ("59", True),  # 5 doubled is 10 -> 1, + 9 = 10
        ("49", False),  # 4 doubled is 8 (not 8 - 9), + 9 = 17
        ("42", True),  # 4 doubled is 8, + 2 = 10
        ("91", True),  # 9 doubled is 18 -> 9, + 1 = 10
    ],
)
def test_luhn_doubles_every_second_digit_from_the_right(digits, valid):
    assert luhn_valid(digits) is valid


def test_a_top_level_value_is_reported_as_the_body_and_list_items_by_index():
    assert card_data_fields("4111 1111 1111 1111") == ["body"]
    assert card_data_fields(["x", "y", "4111111111111111"]) == ["[2]"]
    assert card_data_fields({"a": [{"b": "4111111111111111"}]}) == ["a[0].b"]


def test_booleans_and_floats_are_not_scanned_but_ints_are():
    assert card_data_fields({"flag": True, "ratio": 4111111111111111.0}) == []
    assert card_data_fields({"n": 4111111111111111}) == ["n"]


def test_refusing_names_the_fields_sorted_and_never_the_value():
    # Given a body with card data in two fields
    with pytest.raises(ValidationFailed) as refused:
        refuse_card_data({"z": "4111111111111111", "cvv": "123"})
    # When refused / Then the problem names both fields (sorted) and says nothing of the values
    assert refused.value.detail == CARD_DATA_REFUSED
    assert refused.value.extra == {"fields": ["cvv", "z"]}
    assert "4111" not in str(refused.value.extra) and "123" not in refused.value.detail


def test_a_clean_document_is_not_refused():
    refuse_card_data({"display_name": "Salary account", "amount": "799.00"})  # does not raise


def _request(body: bytes) -> Request:
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request({"type": "http", "method": "POST", "path": "/", "headers": []}, receive)


def _guard(body: bytes) -> None:
    asyncio.run(_refuse_card_data_in_body(_request(body)))


def test_the_dependency_lets_an_empty_or_clean_body_through():
    _guard(b"")
    _guard(b'{"display_name": "EFT"}')


def test_the_dependency_refuses_card_data_in_json_and_in_text_that_is_not_json():
    # Given a JSON body with a CVV, a broken JSON body with a card number, and non-UTF-8 bytes around one
    for body, fields in [
        (b'{"cvv": "123"}', ["cvv"]),
        (b'{"display_name": "4111 1111 1111 1111"', ["body"]),
        (b"\xff\xfe 4111111111111111", ["body"]),
    ]:
        # When the dependency runs / Then it refuses, naming the field (or the body as a whole)
        with pytest.raises(ValidationFailed) as refused:
            _guard(body)
        assert refused.value.extra == {"fields": fields}
