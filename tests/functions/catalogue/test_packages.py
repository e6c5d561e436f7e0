"""The catalogue over HTTP: packages, effective-dated terms, retirement, the customer's sellable list."""

from __future__ import annotations

from datetime import datetime

import pytest

from isp_billing import clock
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token, insert_package, insert_service

CREATE = ("AdminPackageCreateFunction", "POST", "/api/admin/packages")
CUSTOMER_LIST = ("CustomerPackagesListFunction", "GET", "/api/customer/packages")
NOON_1_MARCH = datetime(2026, 3, 1, 12, 0)

FIBRE_50 = {
    "name": "Fibre 50/50",
    "service_type": "fibre",
    "speed_down_mbps": 50,
    "speed_up_mbps": 50,
    "monthly_price": "699.00",
    "data_cap_gb": None,
    "out_of_bundle_price_per_gb": None,
    "interstellio_service_id": "svc-fibre",
    "interstellio_profile_id": "prof-50",
    "minimum_term_months": 24,
    "installation_fee": "1500.00",
}


def _get(package_id: str):
    return ("AdminPackageGetFunction", "GET", f"/api/admin/packages/{package_id}")


def _patch(package_id: str):
    return ("AdminPackageUpdateFunction", "PATCH", f"/api/admin/packages/{package_id}")


def _list():
    return ("AdminPackagesListFunction", "GET", "/api/admin/packages")


def test_a_billing_admin_creates_a_package_and_its_first_terms_are_history(conn):
    # Given a billing admin on 1 March
    _, token = admin_with_token(conn, role="billing_admin")
    with clock.moved_to(NOON_1_MARCH):
        # When they create a 24-month fibre package
        status, _, body = call_api(*CREATE, token=token, body=FIBRE_50)
    # Then it is created with its terms, sellable, and its first history row is from 1 March
    assert status == 201, body
    assert (body["monthly_price"], body["minimum_term_months"], body["is_sellable"]) == ("699.00", 24, True)
    assert body["installation_fee"] == "1500.00" and body["subscribers"] == 0
    assert [(p["effective_from"], p["monthly_price"]) for p in body["prices"]] == [("2026-03-01", "699.00")]


def test_roles_any_admin_reads_only_billing_roles_write(conn):
    # Given one admin of each role
    tokens = {
        role: admin_with_token(conn, role=role)[1] for role in ("super_admin", "billing_admin", "support")
    }
    package_id = insert_package(conn, name="Role test")
    # When each reads and writes
    for role, token in tokens.items():
        assert call_api(*_list(), token=token)[0] == 200
        assert call_api(*_get(package_id), token=token)[0] == 200
        create = call_api(*CREATE, token=token, body={**FIBRE_50, "name": f"Created by {role}"})[0]
        patch = call_api(*_patch(package_id), token=token, body={"speed_down_mbps": 100})[0]
        # Then support is refused the writes (and nothing was written), the billing roles are not
        expected = 403 if role == "support" else 201
        assert create == expected and patch == (403 if role == "support" else 200)
    assert (
        conn.execute(
            "select count(*) as n from service_packages where name = 'Created by support'"
        ).fetchone()["n"]
        == 0
    )
    # And a customer token is not an admin
    _, customer = customer_with_token(conn)
    assert call_api(*_list(), token=customer)[0] == 403
    assert call_api(*_list())[0] == 401


def test_a_price_change_is_a_new_history_row_and_the_old_terms_stay_in_force_until_its_day(conn):
    # Given a R699 uncapped package created on 1 March
    _, token = admin_with_token(conn, role="billing_admin")
    with clock.moved_to(NOON_1_MARCH):
        package = call_api(*CREATE, token=token, body=FIBRE_50)[2]
        # When its price and cap change from 1 April
        status, _, body = call_api(
            *_patch(package["id"]),
            token=token,
            body={
                "monthly_price": "749.00",
                "data_cap_gb": 500,
                "effective_from": "2026-04-01",
                "reason": "Costs",
            },
        )
        # Then today's terms are unchanged and the new terms are upcoming
        assert status == 200, body
        assert (body["monthly_price"], body["data_cap_gb"]) == ("699.00", None)
        assert body["upcoming"]["effective_from"] == "2026-04-01"
        # And the same day again is refused: history is never overwritten
        again = call_api(
            *_patch(package["id"]),
            token=token,
            body={"monthly_price": "1.00", "effective_from": "2026-04-01"},
        )
        assert again[0] == 409
        # And a day in the past is refused
        past = call_api(
            *_patch(package["id"]),
            token=token,
            body={"monthly_price": "1.00", "effective_from": "2026-02-01"},
        )
        assert past[0] == 422
    # Then the database answers each day's terms from the history
    terms = {
        day: conn.execute(
            "select monthly_price, data_cap_gb from package_terms_on(%s, %s)", (package["id"], day)
        ).fetchone()
        for day in ("2026-02-01", "2026-03-31", "2026-04-01", "2027-01-01")
    }
    assert [(str(t["monthly_price"]), t["data_cap_gb"]) for t in terms.values()] == [
        ("699.00", None),
        ("699.00", None),
        ("749.00", 500),
        ("749.00", 500),
    ]
    # And from 1 April the catalogue shows the new terms
    with clock.moved_to(datetime(2026, 4, 1, 9, 0)):
        body = call_api(*_get(package["id"]), token=token)[2]
    assert (body["monthly_price"], body["data_cap_gb"], body["upcoming"]) == ("749.00", 500, None)


def test_the_price_history_refuses_update_and_delete(conn):
    package_id = insert_package(conn)
    for statement in ("update package_prices set monthly_price = 1", "delete from package_prices"):
        with pytest.raises(Exception, match="append-only"), conn.transaction():
            conn.execute(statement + " where package_id = %s", (package_id,))


def test_a_package_with_subscribers_is_retired_and_they_keep_it(conn):
    # Given a package with a customer on it
    _, token = admin_with_token(conn, role="super_admin")
    package_id = insert_package(conn, name="Old LTE", service_type="lte")
    customer, customer_token = customer_with_token(conn)
    service = insert_service(conn, customer, package_id=package_id)
    # When it is retired
    status, _, body = call_api(*_patch(package_id), token=token, body={"is_sellable": False})
    # Then it is no longer sellable, still there, with its subscriber on it
    assert status == 200 and body["is_sellable"] is False and body["retired_at"] and body["subscribers"] == 1
    kept = conn.execute(
        "select package_id::text as p from customer_services where id = %s", (service,)
    ).fetchone()
    assert kept["p"] == package_id
    # And the customer's catalogue no longer offers it, while a sellable one is offered
    sellable = insert_package(conn, name="New LTE", service_type="lte", price="299.00")
    status, _, offered = call_api(*CUSTOMER_LIST, token=customer_token)
    assert status == 200
    ids = [row["id"] for row in offered]
    assert sellable in ids and package_id not in ids
    # And an admin's sellable-only list agrees
    listed = call_api(*_list(), token=token, query="sellable_only=true")[2]
    assert package_id not in [row["id"] for row in listed]


def test_bad_input_is_a_clear_problem_and_writes_nothing(conn):
    _, token = admin_with_token(conn, role="billing_admin")
    before = conn.execute("select count(*) as n from service_packages").fetchone()["n"]
    for body in (
        {**FIBRE_50, "monthly_price": 699},
        {**FIBRE_50, "monthly_price": "-1.00"},
        {**FIBRE_50, "minimum_term_months": 36},
        {**FIBRE_50, "service_type": "dsl"},
        {**FIBRE_50, "unknown": 1},
    ):
        status, headers, problem = call_api(*CREATE, token=token, body=body)
        assert status == 422 and headers["content-type"].startswith("application/problem+json"), problem
    assert call_api(*CREATE, token=token, body=FIBRE_50)[0] == 201
    assert call_api(*CREATE, token=token, body={**FIBRE_50, "name": "fibre 50/50 "})[0] == 409
    assert conn.execute("select count(*) as n from service_packages").fetchone()["n"] == before + 1
