"""GET /api/admin/services, /services/{id} and /services/{id}/audit-log through their Lambda handlers."""

from __future__ import annotations

import pytest

from tests.events import call_api
from tests.factories import admin_with_token, insert_customer, insert_package, insert_service
from tests.lifecycle_helpers import fake_interstellio_for_functions, service_with_line

LIST = ("AdminServicesListFunction", "GET", "/api/admin/services")


def _get(service_id, token):
    return call_api("AdminServiceGetFunction", "GET", f"/api/admin/services/{service_id}", token=token)


def _audit(service_id, token, query=""):
    return call_api(
        "AdminServiceAuditLogFunction",
        "GET",
        f"/api/admin/services/{service_id}/audit-log",
        token=token,
        query=query,
    )


def _log(conn, service_id, customer_id, action, actor_admin_id=None, reason="r"):
    conn.execute(
        "insert into service_action_log (service_id, customer_id, action, previous_status, new_status,"
        " reason, actor_type, actor_admin_id) values (%s, %s, %s, 'active', 'active', %s, %s, %s)",
        (service_id, customer_id, action, reason, "admin" if actor_admin_id else "system", actor_admin_id),
    )


def test_list_filters_by_status_customer_and_package_newest_first(conn):
    # Given services of two customers, in several states and packages
    _, token = admin_with_token(conn, role="support")
    alice, bob = insert_customer(conn), insert_customer(conn)
    package = insert_package(conn)
    a1 = insert_service(conn, alice, status="active", package_id=package)
    a2 = insert_service(conn, alice, status="suspended")
    b1 = insert_service(conn, bob, status="active", package_id=package)
    # When filtered each way
    by_status = call_api(*LIST, token=token, query="status=active")[2]["items"]
    by_customer = call_api(*LIST, token=token, query=f"customer_id={alice}")[2]["items"]
    by_package = call_api(*LIST, token=token, query=f"package_id={package}&status=active")[2]["items"]
    # Then each answers exactly its services, newest first, money as strings
    assert [s["id"] for s in by_status] == [b1, a1]
    assert [s["id"] for s in by_customer] == [a2, a1]
    assert {s["id"] for s in by_package} == {a1, b1}
    assert by_status[0]["monthly_price"] == "699.00" and by_status[0]["provider_sync_status"] == "in_sync"


def test_list_pages_with_a_cursor(conn):
    # Given five services
    _, token = admin_with_token(conn)
    customer = insert_customer(conn)
    ids = [insert_service(conn, customer) for _ in range(5)]
    # When read two at a time following next_cursor
    seen, cursor = [], None
    for _ in range(5):
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, _, page = call_api(*LIST, token=token, query=query)
        assert status == 200
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Then every service comes once, newest first, and the last page has no cursor
    assert seen == list(reversed(ids))


@pytest.mark.parametrize(
    "query", ["status=gone", "customer_id=nope", "limit=0", "limit=201", "cursor=%21%21"]
)
def test_bad_list_parameters_are_422(conn, query):
    _, token = admin_with_token(conn)
    status, headers, _ = call_api(*LIST, token=token, query=query)
    assert status == 422 and headers["content-type"] == "application/problem+json"


def test_get_shows_the_open_suspension(conn):
    # Given a service suspended through the API
    _, token = admin_with_token(conn)
    with fake_interstellio_for_functions() as fake:
        service_id, _ = service_with_line(conn, fake)
        status, _, _ = call_api(
            "AdminServiceSuspendFunction",
            "POST",
            f"/api/admin/services/{service_id}/suspend",
            token=token,
            body={"reason": "Line fault", "suspension_type": "technical"},
        )
        assert status == 200
    # When an admin reads it
    status, _, body = _get(service_id, token)
    # Then the open suspension is shown with it
    assert status == 200 and body["status"] == "suspended"
    assert body["open_suspension"]["suspension_type"] == "technical"
    assert body["open_suspension"]["reason"] == "Line fault"
    assert _get("00000000-0000-4000-8000-00000000beef", token)[0] == 404


def test_audit_log_is_newest_first_with_admin_names_and_pages(conn):
    # Given three actions on a service: two by an admin, one by the system, and one on another service
    admin_id, token = admin_with_token(conn, role="support")
    customer = insert_customer(conn)
    service_id, other = insert_service(conn, customer), insert_service(conn, customer)
    _log(conn, service_id, customer, "suspend", admin_id, reason="first")
    _log(conn, service_id, customer, "provider_retry", None, reason="second")
    _log(conn, service_id, customer, "reactivate", admin_id, reason="third")
    _log(conn, other, customer, "suspend", admin_id)
    # When the log is read two at a time
    status, _, first = _audit(service_id, token, "limit=2")
    status2, _, second = _audit(service_id, token, f"limit=2&cursor={first['next_cursor']}")
    # Then newest first, across pages, with the admin's name and email (null for the system)
    assert status == status2 == 200
    entries = first["items"] + second["items"]
    assert [e["reason"] for e in entries] == ["third", "second", "first"]
    assert second["next_cursor"] is None
    admin = conn.execute("select full_name, email from admin_users where id = %s", (admin_id,)).fetchone()
    assert (entries[0]["actor_name"], entries[0]["actor_email"]) == (admin["full_name"], admin["email"])
    assert entries[1]["actor_type"] == "system" and entries[1]["actor_name"] is None
    assert _audit("00000000-0000-4000-8000-00000000beef", token)[0] == 404
