"""The admin's customer routes through their Lambda handlers with API Gateway events: sign up, find, the
account at a glance, change contact and billing settings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from isp_billing.clock import sast_today
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token, insert_customer, insert_service
from tests.invoice_helpers import insert_invoice, insert_payment

CREATE = ("AdminCustomersCreateFunction", "POST", "/api/admin/customers")
LIST = ("AdminCustomersListFunction", "GET", "/api/admin/customers")


def _get(customer_id: str) -> tuple[str, str, str]:
    return ("AdminCustomerGetFunction", "GET", f"/api/admin/customers/{customer_id}")


def _patch(customer_id: str) -> tuple[str, str, str]:
    return ("AdminCustomerUpdateFunction", "PATCH", f"/api/admin/customers/{customer_id}")


def _patch_billing(customer_id: str) -> tuple[str, str, str]:
    return ("AdminCustomerBillingUpdateFunction", "PATCH", f"/api/admin/customers/{customer_id}/billing")


ADDRESS = {"line1": "12 Jan Smuts Ave", "suburb": "Rosebank", "city": "Johannesburg", "postal_code": "2196"}


def _business(**extra: Any) -> dict[str, Any]:
    return {
        "customer_type": "business",
        "first_name": "Thabo",
        "last_name": "Mokoena",
        "email": "Accounts@Mokoena-Logistics.co.za",
        "phone": "082 123 4567",
        "physical_address": ADDRESS,
        "company_name": "Mokoena Logistics (Pty) Ltd",
        "vat_number": "4123456789",
        "billing": {"billing_day": 25, "payment_terms_days": 14, "auto_pay": True, "debit_day": 26},
        **extra,
    }


def _audit(conn, customer_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        "select action, actor_type, actor_admin_id, changed_fields, previous_data, new_data, request_id"
        " from customer_audit_log where customer_id = %s order by created_at, id",
        (customer_id,),
    ).fetchall()


def _count_customers(conn) -> int:
    return conn.execute("select count(*) as n from customers").fetchone()["n"]


# --- POST /api/admin/customers ----------------------------------------------------------------------------


def test_support_signs_up_a_business_customer_with_its_billing_settings_in_one_go(conn):
    # Given a support agent
    admin_id, token = admin_with_token(conn, role="support")
    # When they create a business customer with billing settings
    status, _, body = call_api(*CREATE, token=token, body=_business())
    # Then it exists with an account number, the phone in E.164 and the billing settings asked for
    assert status == 201, body
    assert body["account_number"].startswith("CUS-") and body["customer_type"] == "business"
    assert body["phone"] == "+27821234567" and body["vat_number"] == "4123456789"
    assert body["physical_address"] == ADDRESS and body["has_login"] is False
    assert body["billing"] == {
        "billing_day": 25,
        "payment_terms_days": 14,
        "invoice_email": "Accounts@Mokoena-Logistics.co.za",
        "auto_pay": True,
        "debit_day": 26,
        "credit_balance": "0.00",
    }
    # And the creation is audited with the admin
    (entry,) = _audit(conn, body["id"])
    assert entry["action"] == "create" and entry["actor_type"] == "admin"
    assert str(entry["actor_admin_id"]) == admin_id and entry["new_data"]["billing"]["billing_day"] == 25


def test_a_consumer_without_billing_settings_gets_the_default_billing_day_setting(conn, monkeypatch):
    from isp_billing.settings import reset_settings_cache

    # Given DEFAULT_BILLING_DAY=5
    monkeypatch.setenv("DEFAULT_BILLING_DAY", "5")
    reset_settings_cache()
    _, token = admin_with_token(conn, role="support")
    try:
        # When a consumer is created with no billing settings
        status, _, body = call_api(
            *CREATE,
            token=token,
            body={"first_name": "Ayanda", "last_name": "Zulu", "email": "ayanda@example.co.za"},
        )
    finally:
        monkeypatch.undo()
        reset_settings_cache()
    # Then the billing day is the setting's, terms 7 days, invoices to the customer's e-mail
    assert status == 201, body
    assert body["billing"]["billing_day"] == 5 and body["billing"]["payment_terms_days"] == 7
    assert body["billing"]["invoice_email"] == "ayanda@example.co.za" and body["customer_type"] == "consumer"


def test_a_duplicate_email_in_another_case_is_409_naming_the_existing_account(conn):
    # Given a customer with this e-mail
    _, token = admin_with_token(conn, role="support")
    first = call_api(*CREATE, token=token, body=_business())[2]
    # When another is created with the same e-mail in other case
    status, headers, body = call_api(
        *CREATE, token=token, body=_business(email="ACCOUNTS@mokoena-logistics.co.za")
    )
    # Then 409 problem+json naming the existing account number, and nothing new was written
    assert status == 409 and headers["content-type"] == "application/problem+json"
    assert body["account_number"] == first["account_number"] and first["account_number"] in body["detail"]
    assert _count_customers(conn) == 1


@pytest.mark.parametrize(
    "change,field",
    [
        ({"vat_number": "5123456789"}, "vat_number"),
        ({"phone": "12345"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"company_name": None}, "company_name"),
        ({"billing": {"billing_day": 32}}, "billing_day"),
        (
            {"physical_address": {"line1": "1 Main Rd", "city": "Durban", "postal_code": "40001"}},
            "postal_code",
        ),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_invalid_details_are_422_and_nothing_is_written(conn, change, field):
    # Given a business sign-up with one invalid detail
    _, token = admin_with_token(conn, role="support")
    status, headers, body = call_api(*CREATE, token=token, body=_business(**change))
    # Then 422 problem+json naming the field, never echoing the value, and no customer exists
    assert status == 422 and headers["content-type"] == "application/problem+json"
    assert field in str(body)
    assert _count_customers(conn) == 0


def test_the_same_idempotency_key_creates_the_customer_once_and_replays_the_answer(conn):
    # Given a sign-up sent twice with one key (a retry after a lost answer)
    _, token = admin_with_token(conn, role="support")
    key = {"Idempotency-Key": "signup-1"}
    first = call_api(*CREATE, token=token, body=_business(), headers=key)
    second = call_api(*CREATE, token=token, body=_business(), headers=key)
    # Then one customer; the second answer is the first, marked replayed
    assert first[0] == second[0] == 201 and first[2] == second[2]
    assert second[1].get("idempotent-replayed") == "true"
    assert _count_customers(conn) == 1


# --- GET /api/admin/customers -----------------------------------------------------------------------------


def _ids(body: dict[str, Any]) -> set[str]:
    return {item["id"] for item in body["items"]}


def test_search_finds_customers_by_name_email_phone_and_account_number(conn):
    # Given three customers
    _, token = admin_with_token(conn, role="support")
    thabo = call_api(*CREATE, token=token, body=_business())[2]
    naledi = call_api(
        *CREATE,
        token=token,
        body={
            "first_name": "Naledi",
            "last_name": "Mokoena",
            "email": "naledi@example.co.za",
            "phone": "+27831112222",
        },
    )[2]
    other = call_api(
        *CREATE,
        token=token,
        body={"first_name": "Pieter", "last_name": "van Wyk", "email": "p_w%@example.co.za"},
    )[2]
    acme = call_api(
        *CREATE,
        token=token,
        body={
            **_business(email="jane@acme.co.za", phone=None, company_name="Acme Fibre CC"),
            "last_name": "Doe",
        },
    )[2]

    def search(query: str) -> set[str]:
        status, _, body = call_api(*LIST, token=token, query=query)
        assert status == 200, body
        return _ids(body)

    # When searching / Then each criterion finds what starts with it, case-insensitively
    assert search("name=mok") == {thabo["id"], naledi["id"]}
    assert search("name=nal%20MOK") == {naledi["id"]}
    assert search("name=mokoena%20th") == {thabo["id"]}  # the words in any order
    assert search("name=pieter%20wyk") == set()  # each word starts a name: "van Wyk" starts with "van"
    assert search("email=ACCOUNTS@") == {thabo["id"]}
    assert search("phone=082%20123") == {thabo["id"]}
    assert search("phone=%2B2783") == {naledi["id"]}
    assert search(f"account_number={naledi['account_number'].lower()}") == {naledi["id"]}
    assert search("name=acme%20fib") == set()  # a name's start, not a word inside it
    assert search("name=acme") == {acme["id"]}  # a company name counts
    assert search("name=van%20pie") == {other["id"]}
    # And LIKE's own characters typed are plain characters
    assert search("email=p_w%25") == {other["id"]}
    assert search("email=p%25") == set()


def test_search_by_account_status(conn):
    # Given customers with an active service, a suspended one, an unpaid invoice, an overdue one, and none
    _, token = admin_with_token(conn, role="support")
    active = insert_customer(conn)
    insert_service(conn, active, status="active")
    suspended = insert_customer(conn)
    insert_service(conn, suspended, status="suspended")
    owing = insert_customer(conn)
    today = sast_today()
    insert_invoice(conn, owing, invoice_date=today, due_date=today + timedelta(days=7))
    overdue = insert_customer(conn)
    insert_invoice(
        conn, overdue, invoice_date=today - timedelta(days=30), due_date=today - timedelta(days=23)
    )
    paid_up = insert_customer(conn)
    insert_invoice(conn, paid_up, status="paid", amount_paid="699.00")

    def search(status: str) -> set[str]:
        code, _, body = call_api(*LIST, token=token, query=f"status={status}")
        assert code == 200, body
        return _ids(body)

    # Then each filter finds exactly its customers
    assert search("active_service") == {active}
    assert search("suspended") == {suspended}
    assert search("owes_money") == {owing, overdue}
    assert search("overdue") == {overdue}


def test_search_pages_with_a_cursor_newest_first_without_repeats(conn):
    # Given five customers
    _, token = admin_with_token(conn, role="support")
    created = [
        call_api(
            *CREATE,
            token=token,
            body={"first_name": f"Sipho{n}", "last_name": "Ndlovu", "email": f"s{n}@example.co.za"},
        )[2]["id"]
        for n in range(5)
    ]
    # When listed two at a time
    seen: list[str] = []
    cursor = None
    while True:
        query = "name=ndlovu&limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, _, body = call_api(*LIST, token=token, query=query)
        assert status == 200
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    # Then every customer once, newest first
    assert seen == list(reversed(created))


@pytest.mark.parametrize(
    "query", ["status=rich", "phone=abc", "cursor=bm90LWEtY3Vyc29y", "name=a%20b%20c%20d%20e", "limit=0"]
)
def test_bad_search_parameters_are_422(conn, query):
    _, token = admin_with_token(conn, role="support")
    status, headers, _ = call_api(*LIST, token=token, query=query)
    assert status == 422 and headers["content-type"] == "application/problem+json"


# --- GET /api/admin/customers/{id} ------------------------------------------------------------------------


def test_the_overview_shows_the_whole_account(conn):
    # Given a customer with a service, a suspended one, an overdue invoice, a payment method and changes
    _, token = admin_with_token(conn, role="billing_admin")
    customer = call_api(*CREATE, token=token, body=_business())[2]
    customer_id = customer["id"]
    live = insert_service(conn, customer_id, status="active", price="899.00")
    paused = insert_service(conn, customer_id, status="suspended")
    conn.execute(
        "insert into service_suspensions (service_id, customer_id, suspension_type, reason)"
        " values (%s, %s, 'customer_request', 'Travelling')",
        (paused, customer_id),
    )
    today = sast_today()
    invoice = insert_invoice(
        conn, customer_id, invoice_date=today - timedelta(days=20), due_date=today - timedelta(days=13)
    )
    conn.execute(
        "insert into customer_payment_methods (customer_id, method_type, display_name, is_primary, bank_name,"
        " branch_code, account_type, account_number_masked, account_holder, mandate_reference,"
        " mandate_status, mandate_amount) values (%s, 'debit_order', 'Cheque', true, 'FNB', '250655',"
        " 'cheque', '****4321', 'T Mokoena', 'MR-1', 'accepted', 1000)",
        (customer_id,),
    )
    paid_invoice = insert_invoice(conn, customer_id, invoice_date=today - timedelta(days=50))
    payment = insert_payment(conn, paid_invoice, "699.00")
    call_api(*_patch(customer_id), token=token, body={"phone": "+27829998888"})
    # When the admin opens the account
    status, _, body = call_api(*_get(customer_id), token=token)
    # Then contact, billing, money, services, suspensions, methods, invoices and the timeline are there
    assert status == 200, body
    assert body["account_number"] == customer["account_number"] and body["phone"] == "+27829998888"
    assert body["billing"]["billing_day"] == 25
    assert body["balance_owed"] == str(invoice["total_amount"]) == body["overdue_amount"]
    assert {s["id"]: s["status"] for s in body["services"]} == {live: "active", paused: "suspended"}
    assert [s["service_id"] for s in body["open_suspensions"]] == [paused]
    assert body["payment_methods"][0]["mandate_status"] == "accepted"
    assert body["payment_methods"][0]["account_number_masked"] == "****4321"
    assert [i["id"] for i in body["recent_invoices"]] == [str(invoice["id"]), str(paid_invoice["id"])]
    assert [(p["id"], p["amount"], p["status"]) for p in body["recent_payments"]] == [
        (payment, "699.00", "successful")
    ]
    actions = [(t["source"], t["action"]) for t in body["timeline"]]
    assert ("account", "contact_change") in actions and ("account", "create") in actions
    assert ("invoice", "issued") in actions and ("payment", "collection") in actions
    assert all("Mokoena" not in t["summary"] for t in body["timeline"])  # no personal data in summaries


def test_an_unknown_customer_is_404(conn):
    _, token = admin_with_token(conn, role="support")
    status, _, _ = call_api(*_get("7f0c8a8e-0000-4000-8000-000000000000"), token=token)
    assert status == 404


# --- PATCH /api/admin/customers/{id} ----------------------------------------------------------------------


def test_a_contact_change_is_audited_with_before_after_and_the_admin(conn):
    # Given a customer
    admin_id, token = admin_with_token(conn, role="support")
    customer = call_api(*CREATE, token=token, body=_business())[2]
    # When support changes the phone and the postal address, and sends the same last name
    status, _, body = call_api(
        *_patch(customer["id"]),
        token=token,
        body={
            "phone": "0831234567",
            "postal_address": {"line1": "PO Box 12", "city": "Pretoria", "postal_code": "0001"},
            "last_name": "Mokoena",
        },
        headers={"x-request-id": "req-contact-1"},
    )
    # Then the answer shows the change, and one audit row holds only what changed, before and after
    assert status == 200, body
    assert body["phone"] == "+27831234567" and body["postal_address"]["city"] == "Pretoria"
    entry = _audit(conn, customer["id"])[-1]
    assert entry["action"] == "contact_change" and str(entry["actor_admin_id"]) == admin_id
    assert entry["changed_fields"] == ["phone", "postal_address"]
    assert entry["previous_data"] == {"phone": "+27821234567", "postal_address": None}
    assert entry["new_data"]["phone"] == "+27831234567"


def test_making_a_business_a_consumer_while_it_keeps_a_company_is_422_and_changes_nothing(conn):
    _, token = admin_with_token(conn, role="support")
    customer = call_api(*CREATE, token=token, body=_business())[2]
    status, _, body = call_api(
        *_patch(customer["id"]), token=token, body={"customer_type": "consumer", "phone": "0831234567"}
    )
    assert status == 422 and "consumer" in body["detail"]
    row = conn.execute(
        "select customer_type, phone from customers where id = %s", (customer["id"],)
    ).fetchone()
    assert row == {"customer_type": "business", "phone": "+27821234567"}
    # And clearing the company and VAT number with it is accepted
    status, _, body = call_api(
        *_patch(customer["id"]),
        token=token,
        body={"customer_type": "consumer", "company_name": None, "vat_number": None},
    )
    assert status == 200 and body["company_name"] is None and body["customer_type"] == "consumer"


def test_changing_to_an_email_another_customer_has_is_409_naming_that_account(conn):
    _, token = admin_with_token(conn, role="support")
    first = call_api(*CREATE, token=token, body=_business())[2]
    second = call_api(
        *CREATE, token=token, body={"first_name": "A", "last_name": "B", "email": "ab@example.co.za"}
    )[2]
    status, _, body = call_api(*_patch(second["id"]), token=token, body={"email": first["email"].upper()})
    assert status == 409 and body["account_number"] == first["account_number"]


@pytest.mark.parametrize("field", ["first_name", "email", "customer_type"])
def test_a_required_contact_field_cannot_be_cleared(conn, field):
    _, token = admin_with_token(conn, role="support")
    customer = call_api(*CREATE, token=token, body=_business())[2]
    status, _, _ = call_api(*_patch(customer["id"]), token=token, body={field: None})
    assert status == 422


# --- PATCH /api/admin/customers/{id}/billing --------------------------------------------------------------


def test_a_billing_admin_changes_debit_day_auto_pay_terms_and_invoice_email_audited(conn):
    # Given a customer
    admin_id, token = admin_with_token(conn, role="billing_admin")
    customer = call_api(*CREATE, token=token, body=_business())[2]
    # When the billing settings change
    status, _, body = call_api(
        *_patch_billing(customer["id"]),
        token=token,
        body={
            "debit_day": None,
            "auto_pay": False,
            "payment_terms_days": 30,
            "invoice_email": "ap@mokoena.co.za",
        },
    )
    # Then the new settings answer, with what changed
    assert status == 200, body
    assert body["debit_day"] is None and body["auto_pay"] is False and body["payment_terms_days"] == 30
    assert body["changed_fields"] == ["auto_pay", "debit_day", "invoice_email", "payment_terms_days"]
    # And the audit row has before and after and the admin
    entry = _audit(conn, customer["id"])[-1]
    assert entry["action"] == "billing_change" and str(entry["actor_admin_id"]) == admin_id
    assert entry["previous_data"] == {
        "debit_day": 26,
        "auto_pay": True,
        "payment_terms_days": 14,
        "invoice_email": "Accounts@Mokoena-Logistics.co.za",
    }


def test_a_billing_day_change_moves_the_periods_by_the_billing_rule_and_is_audited(conn):
    # Given a customer billed on the 25th, nothing billed yet
    _, token = admin_with_token(conn, role="billing_admin")
    customer = call_api(*CREATE, token=token, body=_business())[2]
    # When the billing day is moved to the 1st with another setting
    status, _, body = call_api(
        *_patch_billing(customer["id"]), token=token, body={"billing_day": 1, "payment_terms_days": 30}
    )
    # Then both change, the answer says where the next period starts, and the audit row has both
    assert status == 200, body
    assert body["billing_day"] == 1 and body["payment_terms_days"] == 30
    assert sorted(body["changed_fields"]) == ["billing_day", "payment_terms_days"]
    change = body["billing_day_change"]
    assert change["old_day"] == 25 and change["new_day"] == 1 and change["overlap_credit"] == "0.00"
    assert date.fromisoformat(change["next_billing_date"]).day == 1
    row = conn.execute(
        "select billing_day, payment_terms_days from customer_billing where customer_id = %s",
        (customer["id"],),
    ).fetchone()
    assert row == {"billing_day": 1, "payment_terms_days": 30}
    entries = _audit(conn, customer["id"])
    assert [e["action"] for e in entries] == ["create", "billing_change"]
    assert entries[-1]["previous_data"]["billing_day"] == 25 and entries[-1]["new_data"]["billing_day"] == 1


def test_a_billing_day_that_does_not_change_is_no_change(conn):
    _, token = admin_with_token(conn, role="billing_admin")
    customer = call_api(*CREATE, token=token, body=_business())[2]
    status, _, body = call_api(*_patch_billing(customer["id"]), token=token, body={"billing_day": 25})
    assert status == 200 and body["changed_fields"] == [] and body["billing_day_change"] is None


def test_a_billing_patch_that_changes_nothing_writes_no_audit_row(conn):
    _, token = admin_with_token(conn, role="billing_admin")
    customer = call_api(*CREATE, token=token, body=_business())[2]
    status, _, body = call_api(*_patch_billing(customer["id"]), token=token, body={"payment_terms_days": 14})
    assert status == 200 and body["changed_fields"] == []
    assert [e["action"] for e in _audit(conn, customer["id"])] == ["create"]


# --- who may call what ------------------------------------------------------------------------------------

ROLES = ["super_admin", "billing_admin", "support"]


def _routes(customer_id: str) -> dict[str, tuple[tuple[str, str, str], Any]]:
    return {
        "create": (
            CREATE,
            {"first_name": "R", "last_name": "T", "email": f"r{customer_id[:8]}@example.co.za"},
        ),
        "list": (LIST, None),
        "get": (_get(customer_id), None),
        "patch": (_patch(customer_id), {"phone": "+27820000001"}),
        "billing": (_patch_billing(customer_id), {"auto_pay": True}),
    }


ALLOWED = {
    "create": set(ROLES),
    "list": set(ROLES),
    "get": set(ROLES),
    "patch": set(ROLES),
    "billing": {"super_admin", "billing_admin"},
}
OK = {"create": 201, "list": 200, "get": 200, "patch": 200, "billing": 200}


@pytest.mark.parametrize("route", sorted(ALLOWED))
@pytest.mark.parametrize("role", ROLES)
def test_each_admin_role_may_do_what_its_role_allows(conn, route, role):
    # Given an admin of this role and a customer
    _, token = admin_with_token(conn, role=role)
    customer_id = insert_customer(conn)
    endpoint, body = _routes(customer_id)[route]
    # When the route is called
    status, _, answer = call_api(*endpoint, token=token, body=body)
    # Then it succeeds for an allowed role, else 403 and nothing changed
    if role in ALLOWED[route]:
        assert status == OK[route], answer
    else:
        assert status == 403 and answer["title"] == "Forbidden"
        assert conn.execute("select count(*) as n from customer_audit_log").fetchone()["n"] == 0


@pytest.mark.parametrize("route", sorted(ALLOWED))
@pytest.mark.parametrize("who", ["customer", "inactive_admin", "nobody"])
def test_customers_inactive_admins_and_anonymous_callers_are_refused(conn, route, who):
    # Given a customer's token, an inactive admin's, or none
    customer_id, customer_token = customer_with_token(conn)
    token = {
        "customer": customer_token,
        "inactive_admin": admin_with_token(conn, role="super_admin", is_active=False)[1],
        "nobody": None,
    }[who]
    endpoint, body = _routes(customer_id)[route]
    # When they call an admin route / Then 401 without a token, 403 otherwise, nothing written
    status, _, _ = call_api(*endpoint, token=token, body=body)
    assert status == (401 if who == "nobody" else 403)
    assert _count_customers(conn) == 1
    assert conn.execute("select count(*) as n from customer_audit_log").fetchone()["n"] == 0
