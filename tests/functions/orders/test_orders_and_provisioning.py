"""Selling a service and provisioning its line at Interstellio on activation."""

from __future__ import annotations

from datetime import datetime

from isp_billing import clock
from isp_billing_cli.events import LambdaContext, scheduled_event
from isp_billing_cli.template import function_by_id
from tests.environment import settings_environment
from tests.events import call_api
from tests.factories import admin_with_token, insert_customer, insert_package
from tests.lifecycle_helpers import fake_interstellio_for_functions, log_rows, service_row

NOON_1_MARCH = datetime(2026, 3, 1, 12, 0)
ADDRESS = {"street": "12 Long Street", "city": "Cape Town", "postal_code": "8001"}
VIRTUAL = {"INTERSTELLIO_VIRTUAL_ID": "virt-1"}


def _order(customer_id: str):
    return ("AdminCustomerServiceCreateFunction", "POST", f"/api/admin/customers/{customer_id}/services")


def _activate(service_id: str):
    return ("AdminServiceActivateFunction", "POST", f"/api/admin/services/{service_id}/activate")


def _run_retry_job():
    handler = function_by_id("RetryProviderSyncFunction").load_handler()
    return handler(scheduled_event("retry-provider-sync"), LambdaContext("RetryProviderSyncFunction"))


def _fibre_24(conn) -> str:
    return insert_package(
        conn,
        name="Fibre 50 24m",
        price="699.00",
        minimum_term_months=24,
        installation_fee="1500.00",
        interstellio_service_id="svc-fibre",
        interstellio_profile_id="prof-50",
    )


def _counts(conn):
    return conn.execute(
        "select (select count(*) from customer_services) as services,"
        " (select count(*) from customer_charges) as charges,"
        " (select count(*) from service_action_log) as audit"
    ).fetchone()


def test_support_sells_a_package_a_pending_service_with_its_default_charges_in_one_go(conn):
    # Given a customer and a 24-month package with a R1500 installation fee
    _, support = admin_with_token(conn, role="support")
    customer = insert_customer(conn)
    package = _fibre_24(conn)
    with clock.moved_to(NOON_1_MARCH):
        # When support sells it for 5 March
        body = {"package_id": package, "installation_address": ADDRESS, "requested_date": "2026-03-05"}
        status, _, order = call_api(*_order(customer), token=support, body=body)
    # Then a pending service at the package's price with the 24-month term and the installation charge
    assert status == 201, order
    assert (order["status"], order["monthly_price"], order["term_months"]) == ("pending", "699.00", 24)
    assert [(c["kind"], c["amount"], c["due_date"]) for c in order["charges"]] == [
        ("installation", "1500.00", "2026-03-05")
    ]
    row = service_row(conn, order["service_id"])
    assert row["installation_address"]["city"] == "Cape Town" and row["term_start"] is None
    # And the order is in the audit log
    assert [entry["action"] for entry in log_rows(conn, order["service_id"])] == ["order"]


def test_a_price_override_needs_a_reason_and_a_billing_role_and_bad_orders_write_nothing(conn):
    _, support = admin_with_token(conn, role="support")
    _, billing = admin_with_token(conn, role="billing_admin")
    customer = insert_customer(conn)
    package = _fibre_24(conn)
    retired = insert_package(conn, name="Retired", is_sellable=False)
    before = _counts(conn)
    with clock.moved_to(NOON_1_MARCH):
        base = {"package_id": package, "installation_address": ADDRESS, "requested_date": "2026-03-05"}
        deal = {**base, "monthly_price": "599.00", "price_override_reason": "Loyalty deal"}
        # When support tries a negotiated price: 403; without a reason: 422; a retired package: 409;
        # a past requested date, a bad postal code, an unknown customer: 422/404
        assert call_api(*_order(customer), token=support, body=deal)[0] == 403
        assert call_api(*_order(customer), token=billing, body={**base, "monthly_price": "599.00"})[0] == 422
        assert call_api(*_order(customer), token=billing, body={**base, "package_id": retired})[0] == 409
        assert (
            call_api(*_order(customer), token=billing, body={**base, "requested_date": "2026-02-28"})[0]
            == 422
        )
        bad_address = {**base, "installation_address": {**ADDRESS, "postal_code": "80"}}
        assert call_api(*_order(customer), token=billing, body=bad_address)[0] == 422
        assert call_api(*_order(package), token=billing, body=base)[0] == 404
        # Then nothing was written
        assert _counts(conn) == before
        # And a billing admin sells at the negotiated price with the charges given (none)
        status, _, order = call_api(*_order(customer), token=billing, body={**deal, "charges": []})
    assert status == 201 and order["monthly_price"] == "599.00" and order["charges"] == []
    assert order["price_override_reason"] == "Loyalty deal"


def test_activation_creates_the_subscriber_with_the_package_profile_stores_it_and_starts_the_term(conn):
    with fake_interstellio_for_functions() as fake, settings_environment(VIRTUAL):
        # Given a pending service sold on the 24-month package
        _, token = admin_with_token(conn, role="support")
        customer = insert_customer(conn)
        package = _fibre_24(conn)
        with clock.moved_to(NOON_1_MARCH):
            body = {"package_id": package, "installation_address": ADDRESS, "requested_date": "2026-03-01"}
            service = call_api(*_order(customer), token=token, body=body)[2]["service_id"]
            # When it is activated
            status, _, result = call_api(*_activate(service), token=token, body={})
        # Then Interstellio holds one subscriber with the package's service and profile
        assert status == 200, result
        [subscriber] = fake.subscribers.values()
        assert (subscriber["profile_id"], subscriber["service_id"], subscriber["virtual_id"]) == (
            "prof-50",
            "svc-fibre",
            "virt-1",
        )
        assert subscriber["username"] == f"svc-{service}@isp.example"
        # And the service is active with the subscriber's id, its term from today for 24 months
        row = service_row(conn, service)
        assert (row["status"], row["interstellio_subscriber_id"]) == ("active", subscriber["id"])
        assert (str(row["term_start"]), str(row["term_end"])) == ("2026-03-01", "2028-02-29")
        assert row["provisioning_status"] == "provisioned"
        assert result["action"]["details"]["provider"]["outcome"] == "created"
        # And activating again is a 409 without a second subscriber
        with clock.moved_to(NOON_1_MARCH):
            assert call_api(*_activate(service), token=token, body={})[0] == 409
        assert len(fake.subscribers) == 1


def test_a_lost_answer_leaves_a_visible_pending_state_that_the_retry_job_finishes_without_a_second_line(conn):
    with fake_interstellio_for_functions() as fake, settings_environment(VIRTUAL):
        # Given a pending service and Interstellio that creates the subscriber but whose answer never arrives
        _, token = admin_with_token(conn, role="billing_admin")
        customer = insert_customer(conn)
        package = _fibre_24(conn)
        with clock.moved_to(NOON_1_MARCH):
            body = {"package_id": package, "installation_address": ADDRESS, "requested_date": "2026-03-01"}
            service = call_api(*_order(customer), token=token, body=body)[2]["service_id"]
            fake.time_out_next_creations(1, applied=True)
            # When it is activated
            status, _, pending = call_api(*_activate(service), token=token, body={})
            # Then 202: still pending, provisioning requested, and the intent committed
            assert status == 202, pending
            assert pending["provisioning_status"] == "requested" and pending["provider"]["code"] == "timeout"
            row = service_row(conn, service)
            assert (row["status"], row["provisioning_status"], row["interstellio_subscriber_id"]) == (
                "pending",
                "requested",
                None,
            )
            assert len(fake.subscribers) == 1  # Interstellio did create it
            # When retry-provider-sync runs
            result = _run_retry_job()
        # Then it found the subscriber (no second POST), stored its id and activated the service
        assert result["status"] == "completed", result
        [subscriber] = fake.subscribers.values()
        row = service_row(conn, service)
        assert (row["status"], row["interstellio_subscriber_id"], str(row["activation_date"])) == (
            "active",
            subscriber["id"],
            "2026-03-01",
        )
        posts = [c for c in fake.requests if c.method == "POST" and c.path == "/v1/subscriber"]
        assert len(posts) == 1
        activation = [e for e in log_rows(conn, service) if e["action"] == "activate"]
        assert (
            activation[0]["actor_type"] == "system"
            and activation[0]["details"]["provider"]["outcome"] == "found"
        )
        # And another run does nothing more
        assert _run_retry_job()["status"] == "completed"
        assert len(fake.subscribers) == 1
        assert (
            conn.execute(
                "select count(*) as n from service_provider_work where status = 'requested'"
            ).fetchone()["n"]
            == 0
        )


def test_a_refused_creation_changes_nothing_and_is_a_502(conn):
    with fake_interstellio_for_functions() as fake, settings_environment(VIRTUAL):
        _, token = admin_with_token(conn, role="billing_admin")
        customer = insert_customer(conn)
        package = _fibre_24(conn)
        with clock.moved_to(NOON_1_MARCH):
            body = {"package_id": package, "installation_address": ADDRESS, "requested_date": "2026-03-01"}
            service = call_api(*_order(customer), token=token, body=body)[2]["service_id"]
            # Given a package whose profile Interstellio does not have
            conn.execute(
                "update service_packages set interstellio_profile_id = 'unknown-1' where id = %s", (package,)
            )
            # When the service is activated
            status, _, problem = call_api(*_activate(service), token=token, body={})
        # Then 502, nothing changed, and the intent is settled as refused
        assert status == 502, problem
        assert service_row(conn, service)["status"] == "pending" and fake.subscribers == {}
        work = conn.execute(
            "select status from service_provider_work where service_id = %s", (service,)
        ).fetchall()
        assert [w["status"] for w in work] == ["refused"]
