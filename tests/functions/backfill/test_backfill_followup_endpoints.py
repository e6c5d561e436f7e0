"""Closing the backfill's leftovers: an admin resolves a validation error (the next run retries the order) or
dismisses a review item (the backfill skips the order for good)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import TEST_CRON_SECRET
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token, insert_customer

BACKFILL = ("BackfillOrdersFunction", "POST", "/api/admin/backfill/orders")
QUEUE = ("AdminReviewQueueListFunction", "GET", "/api/admin/review-queue")
ERRORS = ("AdminValidationErrorsListFunction", "GET", "/api/admin/validation-errors")
UNKNOWN_ID = "99999999-9999-4999-8999-999999999999"


def resolve_error_route(error_id: str) -> tuple[str, str, str]:
    return ("AdminValidationErrorResolveFunction", "POST", f"/api/admin/validation-errors/{error_id}/resolve")


def dismiss_route(item_id: str) -> tuple[str, str, str]:
    return ("AdminReviewQueueDismissFunction", "POST", f"/api/admin/review-queue/{item_id}/dismiss")


def resolve_review_route(item_id: str) -> tuple[str, str, str]:
    return ("AdminReviewQueueResolveFunction", "POST", f"/api/admin/review-queue/{item_id}/resolve")


def run_backfill(**options: Any) -> dict[str, Any]:
    status, _, body = call_api(*BACKFILL, token=TEST_CRON_SECRET, body=options)
    assert status == 200
    return body["details"]


def errors_of(conn, order_number: str) -> list[dict[str, Any]]:
    return conn.execute(
        "select id, error_code, resolved_at, resolved_by, resolution_note from validation_errors"
        " where record_ref = %s order by created_at, resolved_at nulls last",
        (order_number,),
    ).fetchall()


def order_links(conn, order_number: str) -> dict[str, Any]:
    return conn.execute(
        "select customer_id, service_id from consumer_orders where order_number = %s", (order_number,)
    ).fetchone()


def insert_order(conn, order_number: str, **fields: Any) -> None:
    values = {
        "order_number": order_number,
        "first_name": "Thandi",
        "last_name": "Mokoena",
        "email": "thandi@example.co.za",
        "phone": "082 123 4567",
        "package_name": "Fibre 50/50",
        "package_price": "699.00",
        "status": "active",
        **fields,
    }
    conn.execute(
        f"insert into consumer_orders ({', '.join(values)}) values ({', '.join(['%s'] * len(values))})",
        list(values.values()),
    )


def add_package(conn, name: str) -> None:
    conn.execute(
        "insert into service_packages (name, service_type, speed_down_mbps, speed_up_mbps, monthly_price)"
        " values (%s, 'fibre', 50, 50, '699.00')",
        (name,),
    )


@pytest.fixture
def unknown_package_error(conn) -> tuple[str, str]:
    """An active order whose package does not exist, recorded by a backfill run: (error id, order number)."""
    add_package(conn, "Fibre 50/50")
    insert_order(conn, "ORD-P1", package_name="Fibre 1000/1000", email="pkg@example.co.za")
    details = run_backfill()
    assert details["validation_errors"] == {"unknown_package": 1}
    [error] = errors_of(conn, "ORD-P1")
    return str(error["id"]), "ORD-P1"


# --- POST /api/admin/validation-errors/{error_id}/resolve ---------------------------------------


def test_after_the_package_is_added_and_the_error_resolved_the_next_run_links_the_order(
    conn, unknown_package_error
):
    # Given an order skipped for an unknown package, and the admin adds that package
    error_id, order_number = unknown_package_error
    assert run_backfill()["skipped"]["unresolved_error"] == 1  # held back while the error is open
    add_package(conn, "Fibre 1000/1000")
    admin_id, token = admin_with_token(conn, role="billing_admin")
    # When the admin resolves the error with a note
    status, _, body = call_api(
        *resolve_error_route(error_id), token=token, body={"note": "  Added the Fibre 1000/1000 package. "}
    )
    # Then it is resolved by that admin, now, with the (trimmed) note
    assert status == 200
    assert body["id"] == error_id and body["resolved_by"] == admin_id and body["resolved_at"]
    assert body["resolution_note"] == "Added the Fibre 1000/1000 package."
    [row] = errors_of(conn, order_number)
    assert str(row["resolved_by"]) == admin_id and row["resolution_note"] == body["resolution_note"]
    # And the next backfill run links the order and creates its service on the new package
    details = run_backfill()
    assert details["linked_by"] == {"new_customer": 1} and details["services_created"] == {"active": 1}
    assert details["validation_errors"] == {} and details["skipped"]["unresolved_error"] == 0
    links = order_links(conn, order_number)
    service = conn.execute(
        "select s.package_name, s.status, s.customer_id from customer_services s where s.id = %s",
        (links["service_id"],),
    ).fetchone()
    assert (service["package_name"], service["status"]) == ("Fibre 1000/1000", "active")
    assert service["customer_id"] == links["customer_id"]
    # And no new error was recorded
    assert len(errors_of(conn, order_number)) == 1


def test_after_the_orders_email_is_corrected_and_the_error_resolved_the_next_run_links_it(conn):
    # Given an order with an invalid email address, recorded as invalid_email
    add_package(conn, "Fibre 50/50")
    insert_order(conn, "ORD-E1", email="thandi at example.co.za")
    run_backfill()
    [error] = errors_of(conn, "ORD-E1")
    assert error["error_code"] == "invalid_email"
    _, token = admin_with_token(conn, role="super_admin")
    # When an admin corrects the email in consumer_orders and resolves the error
    conn.execute("update consumer_orders set email = 'thandi@example.co.za' where order_number = 'ORD-E1'")
    status, _, _ = call_api(
        *resolve_error_route(str(error["id"])), token=token, body={"note": "Email fixed."}
    )
    assert status == 200
    # Then the next run creates the customer with the corrected email and links the order
    details = run_backfill()
    assert details["linked_by"] == {"new_customer": 1}
    customer = conn.execute(
        "select c.email from consumer_orders o join customers c on c.id = o.customer_id"
        " where o.order_number = 'ORD-E1'"
    ).fetchone()
    assert customer["email"] == "thandi@example.co.za"


def test_resolving_without_fixing_the_cause_records_the_error_again_as_a_new_open_row(
    conn, unknown_package_error
):
    # Given an unknown_package error resolved although the package was never added
    error_id, order_number = unknown_package_error
    _, token = admin_with_token(conn, role="billing_admin")
    assert (
        call_api(*resolve_error_route(error_id), token=token, body={"note": "Should be fine now."})[0] == 200
    )
    # When the backfill runs again
    details = run_backfill()
    # Then it tried the order, failed again, and recorded a new open error beside the resolved one
    assert details["validation_errors"] == {"unknown_package": 1} and details["linked"] == 0
    old, new = errors_of(conn, order_number)
    assert str(old["id"]) == error_id and old["resolved_at"] is not None
    assert new["error_code"] == "unknown_package" and new["resolved_at"] is None
    assert order_links(conn, order_number)["customer_id"] is None
    # And the run after that holds the order back again on the new open error
    again = run_backfill()
    assert again["orders"] == 0 and again["skipped"]["unresolved_error"] == 1
    assert len(errors_of(conn, order_number)) == 2


def test_resolving_twice_is_409_with_the_current_state(conn, unknown_package_error):
    # Given an error resolved by one admin
    error_id, order_number = unknown_package_error
    first_admin, first = admin_with_token(conn, role="billing_admin")
    _, second = admin_with_token(conn, role="super_admin")
    assert call_api(*resolve_error_route(error_id), token=first, body={"note": "Done."})[0] == 200
    # When another admin resolves it too
    status, headers, problem = call_api(
        *resolve_error_route(error_id), token=second, body={"note": "Me too."}
    )
    # Then it is refused with who resolved it and when, and the first note stands
    assert status == 409 and headers["content-type"] == "application/problem+json"
    assert problem["current_status"] == "resolved" and problem["resolved_by"] == first_admin
    [row] = errors_of(conn, order_number)
    assert problem["resolved_at"] == row["resolved_at"].isoformat().replace("+00:00", "Z")
    assert row["resolution_note"] == "Done." and str(row["resolved_by"]) == first_admin


def test_resolving_an_unknown_error_is_404(conn):
    _, token = admin_with_token(conn, role="billing_admin")
    status, _, _ = call_api(*resolve_error_route(UNKNOWN_ID), token=token, body={"note": "x"})
    assert status == 404


def test_resolving_needs_a_super_or_billing_admin(conn, unknown_package_error):
    # Given an open error, a support admin and a customer
    error_id, order_number = unknown_package_error
    _, support = admin_with_token(conn, role="support")
    _, customer = customer_with_token(conn)
    # When each tries to resolve it, and someone without a token
    # Then support and the customer are 403, no token 401, and the error stays open
    assert call_api(*resolve_error_route(error_id), token=support, body={"note": "x"})[0] == 403
    assert call_api(*resolve_error_route(error_id), token=customer, body={"note": "x"})[0] == 403
    assert call_api(*resolve_error_route(error_id), body={"note": "x"})[0] == 401
    [row] = errors_of(conn, order_number)
    assert row["resolved_at"] is None and row["resolution_note"] is None


BAD_NOTES: list[Any] = [
    {},
    {"note": None},
    {"note": ""},
    {"note": "   "},
    {"note": "x" * 501},
    {"note": 42},
    {"note": ["fixed"]},
    {"note": "fixed", "resolved_by": UNKNOWN_ID},
    "not json",  # unparseable: 400 (malformed body), every other one 422
]


def _refused_status(body: object) -> int:
    return 400 if body == "not json" else 422


@pytest.mark.parametrize("body", BAD_NOTES)
def test_a_bad_resolve_body_is_422_and_nothing_is_written(conn, unknown_package_error, body):
    error_id, order_number = unknown_package_error
    _, token = admin_with_token(conn, role="billing_admin")
    status, headers, problem = call_api(*resolve_error_route(error_id), token=token, body=body)
    assert status == _refused_status(body) and headers["content-type"] == "application/problem+json"
    assert problem["status"] == status
    [row] = errors_of(conn, order_number)
    assert row["resolved_at"] is None and row["resolved_by"] is None and row["resolution_note"] is None


def test_a_note_of_exactly_500_characters_is_accepted(conn, unknown_package_error):
    error_id, _ = unknown_package_error
    _, token = admin_with_token(conn, role="billing_admin")
    status, _, body = call_api(*resolve_error_route(error_id), token=token, body={"note": "n" * 500})
    assert status == 200 and len(body["resolution_note"]) == 500


def test_the_list_shows_the_resolution_note(conn, unknown_package_error):
    error_id, _ = unknown_package_error
    _, token = admin_with_token(conn, role="billing_admin")
    call_api(*resolve_error_route(error_id), token=token, body={"note": "Package added."})
    _, support = admin_with_token(conn, role="support")
    status, _, page = call_api(*ERRORS, token=support, query="resolved=true")
    assert status == 200
    assert [(item["id"], item["resolution_note"]) for item in page["items"]] == [(error_id, "Package added.")]


# --- POST /api/admin/review-queue/{item_id}/dismiss ---------------------------------------


@pytest.fixture
def shared_phone_item(conn) -> str:
    """Two customers sharing a phone and an installed order with that phone: one open review item."""
    add_package(conn, "Fibre 50/50")
    insert_customer(conn, email="one@example.co.za", phone="+27825550000")
    insert_customer(conn, email="two@example.co.za", phone="+27825550000")
    insert_order(conn, "ORD-R1", email="three@example.co.za", phone="082 555 0000", status="installed")
    assert run_backfill()["review_queued"] == {"shared_phone": 1}
    return str(conn.execute("select id from migration_review_queue").fetchone()["id"])


def review_row(conn) -> dict[str, Any]:
    return conn.execute(
        "select status, decision, decided_by, decided_at, decision_note, resolved_customer_id"
        " from migration_review_queue"
    ).fetchone()


def test_dismissing_links_nothing_records_who_and_the_backfill_skips_the_order_for_good(
    conn, shared_phone_item
):
    # Given an open review item and a billing admin
    item_id = shared_phone_item
    admin_id, token = admin_with_token(conn, role="billing_admin")
    customers = conn.execute("select count(*) as n from customers").fetchone()["n"]
    # When the admin dismisses it with a note
    status, _, body = call_api(
        *dismiss_route(item_id), token=token, body={"note": "Test order from the old website."}
    )
    # Then it is dismissed by that admin, now, with the note, and nothing is linked or created
    assert status == 200
    assert (body["id"], body["status"], body["decided_by"]) == (item_id, "dismissed", admin_id)
    assert body["decided_at"] and body["decision_note"] == "Test order from the old website."
    assert body["resolved_customer_id"] is None and body["order_number"] == "ORD-R1"
    row = review_row(conn)
    assert (row["status"], str(row["decided_by"]), row["resolved_customer_id"]) == (
        "dismissed",
        admin_id,
        None,
    )
    assert order_links(conn, "ORD-R1") == {"customer_id": None, "service_id": None}
    assert conn.execute("select count(*) as n from customers").fetchone()["n"] == customers
    assert conn.execute("select count(*) as n from customer_services").fetchone()["n"] == 0
    # And the next runs (dry and real) skip the order as dismissed, without queueing it again
    for dry_run in (True, False, False):
        details = run_backfill(dry_run=dry_run)
        assert details["orders"] == 0 and details["review_queued"] == {}
        assert details["skipped"] == {"open_review": 0, "unresolved_error": 0, "dismissed": 1}
    assert conn.execute("select count(*) as n from migration_review_queue").fetchone()["n"] == 1
    assert order_links(conn, "ORD-R1")["customer_id"] is None
    # And the open queue is empty, the dismissed list shows it
    assert call_api(*QUEUE, token=token)[2]["items"] == []
    [listed] = call_api(*QUEUE, token=token, query="status=dismissed")[2]["items"]
    assert listed["id"] == item_id and listed["decision_note"] == "Test order from the old website."


def test_dismissing_twice_or_after_a_resolve_is_409_with_the_current_status(conn, shared_phone_item):
    item_id = shared_phone_item
    first_admin, token = admin_with_token(conn, role="super_admin")
    assert call_api(*dismiss_route(item_id), token=token, body={"note": "Not ours."})[0] == 200
    status, _, problem = call_api(*dismiss_route(item_id), token=token, body={"note": "Again."})
    assert status == 409 and problem["current_status"] == "dismissed"
    assert problem["decided_by"] == first_admin and problem["decided_at"]
    assert review_row(conn)["decision_note"] == "Not ours."
    # And a dismissed item cannot be resolved afterwards either
    status, _, problem = call_api(
        *resolve_review_route(item_id), token=token, body={"decision": "create_new"}
    )
    assert status == 409 and problem["current_status"] == "dismissed"
    assert order_links(conn, "ORD-R1")["customer_id"] is None


def test_a_resolved_item_cannot_be_dismissed(conn, shared_phone_item):
    item_id = shared_phone_item
    _, token = admin_with_token(conn, role="billing_admin")
    assert call_api(*resolve_review_route(item_id), token=token, body={"decision": "create_new"})[0] == 200
    status, _, problem = call_api(*dismiss_route(item_id), token=token, body={"note": "Too late."})
    assert status == 409 and problem["current_status"] == "resolved"
    row = review_row(conn)
    assert (row["status"], row["decision_note"]) == ("resolved", None)


def test_dismissing_an_unknown_item_is_404(conn):
    _, token = admin_with_token(conn, role="billing_admin")
    assert call_api(*dismiss_route(UNKNOWN_ID), token=token, body={"note": "x"})[0] == 404


def test_dismissing_needs_a_super_or_billing_admin(conn, shared_phone_item):
    item_id = shared_phone_item
    _, support = admin_with_token(conn, role="support")
    _, customer = customer_with_token(conn)
    assert call_api(*dismiss_route(item_id), token=support, body={"note": "x"})[0] == 403
    assert call_api(*dismiss_route(item_id), token=customer, body={"note": "x"})[0] == 403
    assert call_api(*dismiss_route(item_id), body={"note": "x"})[0] == 401
    row = review_row(conn)
    assert (row["status"], row["decided_by"], row["decision_note"]) == ("open", None, None)


@pytest.mark.parametrize("body", BAD_NOTES)
def test_a_bad_dismiss_body_is_422_and_nothing_is_written(conn, shared_phone_item, body):
    item_id = shared_phone_item
    _, token = admin_with_token(conn, role="billing_admin")
    status, headers, _ = call_api(*dismiss_route(item_id), token=token, body=body)
    assert status == _refused_status(body) and headers["content-type"] == "application/problem+json"
    row = review_row(conn)
    assert (row["status"], row["decided_by"], row["decided_at"], row["decision_note"]) == (
        "open",
        None,
        None,
        None,
    )
