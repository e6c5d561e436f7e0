"""The contact rules: phone numbers to E.164, e-mail shape, SARS VAT numbers, business details."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from isp_billing.customers import contact_rules
from isp_billing.customers.admin_models import CustomerCreateRequest
from isp_billing.customers.search import phone_prefix
from isp_billing.customers.search_sql import like_prefix
from isp_billing.errors import ValidationFailed


@pytest.mark.parametrize(
    "typed,stored",
    [
        ("+27821234567", "+27821234567"),
        ("082 123 4567", "+27821234567"),
        ("082-123-4567", "+27821234567"),
        ("(011) 555 1234", "+27115551234"),
        ("0027 82 123 4567", "+27821234567"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_a_phone_number_is_stored_in_e164(typed, stored):
    # Given a number as a person types it / When normalised / Then E.164
    assert contact_rules.normalise_phone(typed) == stored


@pytest.mark.parametrize(
    "bad", ["12345", "082 123 456", "0821234567890123", "+0821234567", "phone", "+27 82 abc"]
)
def test_a_phone_number_that_is_not_one_is_refused(bad):
    with pytest.raises(PydanticCustomError):
        contact_rules.normalise_phone(bad)


@given(st.from_regex(r"\A0[1-9][0-9]{8}\Z"))
def test_every_south_african_local_number_becomes_27_and_stays_put_when_normalised_again(local):
    # Given any 0XXXXXXXXX number / When normalised twice
    once = contact_rules.normalise_phone(local)
    # Then it is +27 and the nine digits after the 0, and normalising is idempotent
    assert once == "+27" + local[1:]
    assert contact_rules.normalise_phone(once) == once


@pytest.mark.parametrize("vat", ["4123456789", "4 123 456 789"])
def test_a_vat_number_is_ten_digits_starting_with_4(vat):
    assert contact_rules.check_vat_number(vat) == "4123456789"


@pytest.mark.parametrize("vat", ["5123456789", "412345678", "41234567890", "4A23456789"])
def test_other_vat_numbers_are_refused(vat):
    with pytest.raises(PydanticCustomError):
        contact_rules.check_vat_number(vat)


@pytest.mark.parametrize("email", ["thabo@example.co.za", "  Thabo.M+isp@Example.CO.ZA "])
def test_an_email_is_trimmed_and_keeps_its_case(email):
    assert contact_rules.normalise_email(email) == email.strip()


@pytest.mark.parametrize("email", ["thabo", "thabo@", "@example.co.za", "a b@example.co.za", "x@localhost"])
def test_a_string_that_is_no_email_is_refused(email):
    with pytest.raises(PydanticCustomError):
        contact_rules.normalise_email(email)


@pytest.mark.parametrize(
    "customer_type,company,vat,problem",
    [
        ("business", "Acme (Pty) Ltd", "4123456789", None),
        ("business", "Acme (Pty) Ltd", None, None),  # not every business is a VAT vendor
        ("business", None, "4123456789", "company_name"),
        ("consumer", None, None, None),
        ("consumer", "Acme", None, "consumer"),
        ("consumer", None, "4123456789", "consumer"),
    ],
)
def test_business_details_fit_the_customer_type(customer_type, company, vat, problem):
    found = contact_rules.business_details_problem(customer_type, company, vat)
    assert (found is None) if problem is None else (problem in found)


def test_a_create_request_for_a_business_without_a_company_is_refused():
    # Given a business with a VAT number but no company name / When validated / Then refused
    with pytest.raises(ValidationError, match="company_name"):
        CustomerCreateRequest.model_validate(
            {
                "customer_type": "business",
                "first_name": "A",
                "last_name": "B",
                "email": "a@b.co.za",
                "vat_number": "4123456789",
            }
        )


@pytest.mark.parametrize(
    "typed,prefix", [("082 12", "+278212"), ("+2782", "+2782"), ("27 82", "+2782"), ("0027", "+27")]
)
def test_a_typed_phone_search_is_an_e164_prefix(typed, prefix):
    assert phone_prefix(typed) == prefix


def test_a_phone_search_with_letters_is_refused():
    with pytest.raises(ValidationFailed):
        phone_prefix("082abc")


@given(st.text(max_size=20))
def test_a_search_prefix_matches_only_itself_literally(text):
    # Given any typed text / When made a LIKE prefix
    pattern = like_prefix(text)
    # Then it ends in the one wildcard and every LIKE character typed is escaped
    assert pattern.endswith("%")
    body = pattern[:-1]
    unescaped = body.replace("\\\\", "").replace("\\%", "").replace("\\_", "")
    assert "%" not in unescaped and "_" not in unescaped
