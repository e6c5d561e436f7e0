"""Card numbers and CVVs are found anywhere in a body; bank details and tokens are not mistaken for them."""

import pytest

from isp_billing.card_data import card_data_fields, contains_card_number, luhn_valid
from isp_billing.idempotency import fingerprint


@pytest.mark.parametrize(
    "number", ["4111111111111111", "5555555555554444", "378282246310005", "6011111111111117", "4222222222222"]
)
def test_test_card_numbers_pass_luhn(number):
    assert luhn_valid(number) and contains_card_number(number)


@pytest.mark.parametrize(
    "text",
    [
        "62012345678",  # an 11-digit bank account number
        "250655",  # a branch code
        "4111111111111112",  # fails Luhn
        "3f2c9a1e-5b7d-4c8e-9a0b-123456789012",  # a UUID-style token
        "tok_live_9f8e7d6c5b4a",
        "ref 12345 67890",  # too short
    ],
)
def test_other_values_are_not_card_numbers(text):
    assert not contains_card_number(text)


def test_card_numbers_are_found_formatted_nested_and_as_numbers():
    # Given a body hiding card data in several shapes
    body = {
        "display_name": "my card 4111 1111 1111 1111",
        "nested": {"list": ["x", 5555555555554444]},
        "Card-Number": "n/a",
        "security": {"CVV2": "123"},
        "account_number": "62012345678",
    }
    # Then every offending field is named, and only those
    assert card_data_fields(body) == [
        "Card-Number",
        "display_name",
        "nested.list[1]",
        "security.CVV2",
    ]


def test_a_clean_body_has_no_card_fields():
    assert card_data_fields({"method_type": "eft", "display_name": "Monthly EFT", "flag": True}) == []


def test_request_fingerprints_differ_by_body_and_by_key_and_hide_the_input():
    a = fingerprint("POST /x:1", "k", "/x", {"account_number": "62012345678"})
    assert a == fingerprint("POST /x:1", "k", "/x", {"account_number": "62012345678"})
    assert a != fingerprint("POST /x:1", "k", "/x", {"account_number": "62012345679"})
    assert a != fingerprint("POST /x:1", "k2", "/x", {"account_number": "62012345678"})
    assert "62012345678" not in a and a.startswith("scrypt$")


@pytest.mark.parametrize(
    "text",
    [
        "4111.1111.1111.1111",
        "4111/1111/1111/1111",
        "4111_1111_1111_1111",
        "4111  1111  1111  1111",  # double spaces
        "4111 1111-1111.1111",  # mixed separators
        "card: 4111,1111,1111,1111.",
        "ref 1234 4111 1111 1111 1111",  # the card's groups inside a longer run
        "\uff14" + "\uff11" * 15,  # full-width digits
    ],
)
def test_card_numbers_are_found_whatever_separates_their_digits(text):
    # Given a card number spelled with punctuation or spacing / Then it is found
    assert contains_card_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111111x",  # glued to a letter: a token or reference, not a number on its own
        "tok4111111111111111",
        "4111   1111 1111 1111",  # three spaces end a run
        "Called on 2026-12-01 at 10:00",
    ],
)
def test_runs_glued_to_letters_or_far_apart_are_not_card_numbers(text):
    assert not contains_card_number(text)


def test_a_punctuated_card_number_in_a_body_is_named_by_its_field():
    assert card_data_fields({"display_name": "4111.1111.1111.1111", "bank_name": "FNB"}) == ["display_name"]
