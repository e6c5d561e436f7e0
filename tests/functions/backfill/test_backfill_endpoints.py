"""The backfill job's HTTP trigger, the CLI, and the admin endpoints for validation errors and review."""

from __future__ import annotations

import json

import pytest

from isp_billing_cli.main import main
from tests import order_fixtures
from tests.conftest import TEST_CRON_SECRET
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token, insert_customer

BACKFILL = ("BackfillOrdersFunction", "POST", "/api/admin/backfill/orders")
ERRORS = ("AdminValidationErrorsListFunction", "GET", "/api/admin/validation-errors")
QUEUE = ("AdminReviewQueueListFunction", "GET", "/api/admin/review-queue")


def resolve_route(item_id: str) -> tuple[str, str, str]:
    return ("AdminReviewQueueResolveFunction", "POST", f"/api/admin/review-queue/{item_id}/resolve")


def count(conn, table: str) -> int:
    return conn.execute(f"select count(*) as n from {table}").fetchone()["n"]


@pytest.fixture
def small_dataset(conn):
    data = order_fixtures.generate(300, seed=5)
    order_fixtures.load(conn, data)
    return data


# --- POST /api/admin/backfill/orders ---------------------------------------------------------------------


def test_a_billing_admin_runs_the_backfill_and_gets_its_counts(conn, small_dataset):
    # Given a billing admin
    admin_id, token = admin_with_token(conn, role="billing_admin")
    # When they start the backfill over HTTP
    status, _, body = call_api(*BACKFILL, token=token, body={"dry_run": False})
    # Then the run's log row answers, with the counts, and records who started it
    assert status == 200 and body["job_name"] == "backfill-orders" and body["trigger"] == "manual"
    expected = small_dataset.expected()
    assert body["details"]["linked"] == expected["linked"]
    assert body["details"]["validation_errors"] == expected["validation_errors"]
    assert body["records_failed"] == sum(expected["validation_errors"].values())
    row = conn.execute("select triggered_by, details from cron_execution_log").fetchone()
    assert str(row["triggered_by"]) == admin_id and row["details"]["options"]["dry_run"] is False


def test_a_dry_run_over_http_writes_only_its_log_row(conn, small_dataset):
    _, token = admin_with_token(conn, role="super_admin")
    customers = count(conn, "customers")
    status, _, body = call_api(*BACKFILL, token=token, body={"dry_run": True})
    assert status == 200 and body["details"]["dry_run"] is True
    assert body["details"]["customers_created"] == small_dataset.expected()["customers_created"]
    assert count(conn, "customers") == customers and count(conn, "validation_errors") == 0
    assert count(conn, "cron_execution_log") == 1


@pytest.mark.parametrize("body", [{"dry_run": "true"}, {"since": "yesterday"}, {"verbose": True}])
def test_bad_options_are_422_and_nothing_is_written(conn, small_dataset, body):
    status, headers, problem = call_api(*BACKFILL, token=TEST_CRON_SECRET, body=body)
    assert status == 422 and headers["content-type"] == "application/problem+json"
    assert problem["errors"]
    assert count(conn, "cron_execution_log") == 0 and count(conn, "validation_errors") == 0


def test_support_admins_and_customers_may_not_run_the_backfill(conn, small_dataset):
    _, support = admin_with_token(conn, role="support")
    _, customer = customer_with_token(conn)
    for token in (support, customer):
        status, _, _ = call_api(*BACKFILL, token=token, body={})
        assert status == 403
    assert count(conn, "cron_execution_log") == 0


def test_the_cli_runs_and_reports_and_invoke_runs_the_function(conn, small_dataset, capsys):
    # When `isp-billing backfill-orders --dry-run` runs
    assert main(["backfill-orders", "--dry-run", "--since", "2000-01-01"]) == 0
    printed = json.loads(capsys.readouterr().out)
    # Then it prints the run with its counts and wrote nothing
    assert printed["details"]["dry_run"] is True and printed["trigger"] == "manual"
    assert printed["details"]["linked"] == small_dataset.expected()["linked"]
    assert count(conn, "validation_errors") == 0
    # When `isp-billing invoke BackfillOrdersFunction` runs
    assert main(["invoke", "BackfillOrdersFunction"]) == 0
    invoked = json.loads(capsys.readouterr().out)
    # Then the function ran the real backfill
    assert invoked["status"] == "partial" and invoked["details"]["dry_run"] is False
    assert count(conn, "validation_errors") == sum(small_dataset.expected()["validation_errors"].values())


def test_the_cli_refuses_bad_dates(conn, capsys):
    assert main(["backfill-orders", "--since", "31/12/2025"]) == 1
    assert "since" in capsys.readouterr().err


# --- GET /api/admin/validation-errors ---------------------------------------------------------------------


def test_validation_errors_are_listed_filtered_and_paginated(conn, small_dataset):
    # Given a backfill that recorded validation errors, and one error of another source already resolved
    _, token = admin_with_token(conn, role="support")
    call_api(*BACKFILL, token=TEST_CRON_SECRET, body={})
    conn.execute(
        "insert into validation_errors (source, record_ref, error_code, message, resolved_at)"
        " values ('usage_ingest', 'x', 'bad_row', 'A bad row.', now())"
    )
    total = sum(small_dataset.expected()["validation_errors"].values())
    # When an admin pages through the unresolved backfill errors, 4 at a time
    seen, cursor = [], None
    while True:
        query = "source=order_backfill&resolved=false&limit=4" + (f"&cursor={cursor}" if cursor else "")
        status, _, page = call_api(*ERRORS, token=token, query=query)
        assert status == 200
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Then every error appears once, with its code and message, and no contact details
    assert len(seen) == total == len({item["id"] for item in seen})
    assert all(item["source"] == "order_backfill" and item["record_ref"].startswith("ORD-") for item in seen)
    assert "@" not in json.dumps(seen)
    # And the resolved filter finds the other source's resolved error only
    status, _, page = call_api(*ERRORS, token=token, query="resolved=true")
    assert [item["error_code"] for item in page["items"]] == ["bad_row"]


def test_listing_validation_errors_needs_an_admin(conn):
    _, customer = customer_with_token(conn)
    status, _, _ = call_api(*ERRORS, token=customer)
    assert status == 403
    status, _, _ = call_api(*ERRORS)
    assert status == 401


# --- the review queue -----------------------------------------------------------------------------------


@pytest.fixture
def shared_phone_item(conn):
    """Two customers sharing a phone and an installed order with that phone: one open review item."""
    conn.execute(
        "insert into service_packages (name, service_type, speed_down_mbps, speed_up_mbps, monthly_price)"
        " values ('Fibre 50/50', 'fibre', 50, 50, '699.00')"
    )
    first = insert_customer(conn, email="one@example.co.za", phone="+27825550000")
    second = insert_customer(conn, email="two@example.co.za", phone="+27825550000")
    conn.execute(
        "insert into consumer_orders (order_number, first_name, last_name, email, phone, package_name,"
        " package_price, status, activation_date) values ('ORD-R1', 'Lerato', 'Dlamini',"
        " 'three@example.co.za', '082 555 0000', 'Fibre 50/50', '749.00', 'installed', '2026-02-01')"
    )
    call_api(*BACKFILL, token=TEST_CRON_SECRET, body={})
    item = conn.execute("select id from migration_review_queue").fetchone()
    return str(item["id"]), first, second


def test_open_items_are_listed_with_their_candidates(conn, shared_phone_item):
    item_id, first, second = shared_phone_item
    _, token = admin_with_token(conn, role="billing_admin")
    status, _, page = call_api(*QUEUE, token=token)
    assert status == 200 and page["next_cursor"] is None
    [item] = page["items"]
    assert (item["id"], item["order_number"], item["reason"], item["status"]) == (
        item_id,
        "ORD-R1",
        "shared_phone",
        "open",
    )
    assert {c["customer_id"] for c in item["candidates"]} == {first, second}
    assert all(
        c["matched_on"] == "phone" and c["account_number"].startswith("CUS-") for c in item["candidates"]
    )


def test_resolving_links_the_chosen_customer_creates_the_service_and_records_who(conn, shared_phone_item):
    # Given an open item and a billing admin
    item_id, _, second = shared_phone_item
    admin_id, token = admin_with_token(conn, role="billing_admin")
    # When the admin picks the second candidate
    status, _, body = call_api(
        *resolve_route(item_id), token=token, body={"decision": "link_existing", "customer_id": second}
    )
    # Then the order is linked to that customer with its service, and the item says who decided
    assert status == 200 and body["status"] == "resolved" and body["customer_id"] == second
    assert body["decided_by"] == admin_id and body["decided_at"] and body["resolved_customer_id"] == second
    order = conn.execute("select customer_id, service_id from consumer_orders").fetchone()
    assert str(order["customer_id"]) == second and str(order["service_id"]) == body["service_id"]
    service = conn.execute(
        "select customer_id, status, monthly_price, activation_date from customer_services"
    )
    row = service.fetchone()
    assert (str(row["customer_id"]), row["status"], str(row["monthly_price"])) == (second, "active", "749.00")
    # And a later backfill leaves the order alone, and the open list is empty
    assert call_api(*BACKFILL, token=TEST_CRON_SECRET, body={})[2]["details"]["orders"] == 0
    assert call_api(*QUEUE, token=token)[2]["items"] == []
    # And deciding again is refused with the item's status
    status, _, problem = call_api(
        *resolve_route(item_id), token=token, body={"decision": "link_existing", "customer_id": second}
    )
    assert status == 409 and problem["current_status"] == "resolved"


def test_resolving_with_a_new_customer_creates_one(conn, shared_phone_item):
    item_id, _, _ = shared_phone_item
    _, token = admin_with_token(conn, role="super_admin")
    status, _, body = call_api(*resolve_route(item_id), token=token, body={"decision": "create_new"})
    assert status == 200 and body["decision"] == "create_new"
    customer = conn.execute(
        "select c.email, c.phone, b.invoice_email from customers c"
        " join customer_billing b on b.customer_id = c.id where c.id = %s",
        (body["customer_id"],),
    ).fetchone()
    assert (customer["email"], customer["phone"]) == ("three@example.co.za", "+27825550000")
    assert count(conn, "customers") == 3


def test_a_customer_who_is_not_a_candidate_is_422_and_nothing_changes(conn, shared_phone_item):
    item_id, _, _ = shared_phone_item
    other = insert_customer(conn, email="four@example.co.za")
    _, token = admin_with_token(conn, role="billing_admin")
    status, _, _ = call_api(
        *resolve_route(item_id), token=token, body={"decision": "link_existing", "customer_id": other}
    )
    assert status == 422
    assert conn.execute("select status from migration_review_queue").fetchone()["status"] == "open"
    assert conn.execute("select customer_id from consumer_orders").fetchone()["customer_id"] is None


def test_create_new_when_the_email_is_taken_is_409_and_nothing_is_written(conn):
    # Given an order whose email matches one customer and phone another (email_phone_conflict)
    insert_customer(conn, email="taken@example.co.za", phone="+27826660000")
    insert_customer(conn, email="else@example.co.za", phone="+27826660001")
    conn.execute(
        "insert into consumer_orders (order_number, first_name, last_name, email, phone, status)"
        " values ('ORD-C1', 'Sipho', 'Naidoo', 'TAKEN@example.co.za', '0826660001', 'pending')"
    )
    call_api(*BACKFILL, token=TEST_CRON_SECRET, body={})
    item = conn.execute("select id, reason from migration_review_queue").fetchone()
    assert item["reason"] == "email_phone_conflict"
    _, token = admin_with_token(conn, role="billing_admin")
    # When an admin asks for a new customer
    status, _, problem = call_api(
        *resolve_route(str(item["id"])), token=token, body={"decision": "create_new"}
    )
    # Then it is refused: the email belongs to a customer already
    assert status == 409 and "already exists" in problem["detail"]
    assert count(conn, "customers") == 2
    assert conn.execute("select status from migration_review_queue").fetchone()["status"] == "open"


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "link_existing"},
        {"decision": "create_new", "customer_id": "20000000-0000-4000-8000-000000000001"},
        {"decision": "merge"},
    ],
)
def test_inconsistent_decisions_are_422(conn, shared_phone_item, body):
    item_id, _, _ = shared_phone_item
    _, token = admin_with_token(conn, role="billing_admin")
    status, _, _ = call_api(*resolve_route(item_id), token=token, body=body)
    assert status == 422


def test_support_may_read_the_queue_but_not_decide(conn, shared_phone_item):
    item_id, first, _ = shared_phone_item
    _, token = admin_with_token(conn, role="support")
    assert call_api(*QUEUE, token=token)[0] == 200
    status, _, _ = call_api(
        *resolve_route(item_id), token=token, body={"decision": "link_existing", "customer_id": first}
    )
    assert status == 403
    assert conn.execute("select status from migration_review_queue").fetchone()["status"] == "open"


def test_an_unknown_item_is_404(conn):
    _, token = admin_with_token(conn, role="billing_admin")
    status, _, _ = call_api(
        *resolve_route("99999999-9999-4999-8999-999999999999"), token=token, body={"decision": "create_new"}
    )
    assert status == 404
