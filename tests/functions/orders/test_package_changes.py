"""Package changes: the price by the change-price rule, the profile switched at Interstellio on the day;
customers' change requests and the admin's decision."""

from __future__ import annotations

from datetime import datetime

from isp_billing import clock
from isp_billing_cli.events import LambdaContext, scheduled_event
from isp_billing_cli.template import function_by_id
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token, insert_package
from tests.lifecycle_helpers import fake_interstellio_for_functions, log_rows, service_with_line

TENTH_MARCH = datetime(2026, 3, 10, 9, 0)
FIFTEENTH_MARCH = datetime(2026, 3, 15, 0, 30)


def _change(service_id: str):
    return ("AdminServiceChangePackageFunction", "POST", f"/api/admin/services/{service_id}/change-package")


def _ask(service_id: str):
    return (
        "CustomerServiceChangeRequestCreateFunction",
        "POST",
        f"/api/customer/services/{service_id}/change-requests",
    )


MY_REQUESTS = ("CustomerChangeRequestsListFunction", "GET", "/api/customer/change-requests")
ADMIN_REQUESTS = ("AdminChangeRequestsListFunction", "GET", "/api/admin/change-requests")


def _decide(request_id: str, verb: str):
    function = (
        "AdminChangeRequestApproveFunction" if verb == "approve" else "AdminChangeRequestDeclineFunction"
    )
    return (function, "POST", f"/api/admin/change-requests/{request_id}/{verb}")


def _run_retry_job():
    handler = function_by_id("RetryProviderSyncFunction").load_handler()
    return handler(scheduled_event("retry-provider-sync"), LambdaContext("RetryProviderSyncFunction"))


def _packages(conn):
    old = insert_package(conn, name="Fibre 25", price="499.00", interstellio_profile_id="prof-25")
    new = insert_package(conn, name="Fibre 100", price="899.00", interstellio_profile_id="prof-100")
    return old, new


def test_a_package_change_prices_from_the_date_and_switches_the_profile_on_that_day_retrying_failures(conn):
    with fake_interstellio_for_functions() as fake:
        # Given an active service on Fibre 25 with its line at Interstellio
        _, token = admin_with_token(conn, role="billing_admin")
        old, new = _packages(conn)
        service, subscriber = service_with_line(conn, fake, package_id=old, price="499.00")
        fake.add_subscriber(subscriber, f"{subscriber}@isp.example", profile_id="prof-25")
        with clock.moved_to(TENTH_MARCH):
            # When on 10 March it moves to Fibre 100 from 15 March
            body = {"package_id": new, "effective_date": "2026-03-15", "reason": "Upgrade"}
            status, _, result = call_api(*_change(service), token=token, body=body)
            # Then the price changes through the price_change rule and a profile switch waits for the day
            assert status == 200, result
            assert (result["old_price"], result["new_price"], result["effective_date"]) == (
                "499.00",
                "899.00",
                "2026-03-15",
            )
            assert result["profile_change_id"]
            price_rows = [e for e in log_rows(conn, service) if e["action"] == "price_change"]
            assert price_rows[0]["details"]["effective_date"] == "2026-03-15"
            # And the job before the day leaves the line alone
            _run_retry_job()
            assert fake.subscribers[subscriber]["profile_id"] == "prof-25"
        with clock.moved_to(FIFTEENTH_MARCH):
            # When on the day Interstellio times out on every try of the first run
            fake.fail_next("timeout", times=3)
            first = _run_retry_job()
            # Then the switch is still owed
            assert first["status"] in ("completed", "partial"), first
            assert fake.subscribers[subscriber]["profile_id"] == "prof-25"
            # And the next run applies it and audits it
            _run_retry_job()
        assert fake.subscribers[subscriber]["profile_id"] == "prof-100"
        [applied] = [e for e in log_rows(conn, service) if e["action"] == "package_change"]
        assert applied["actor_type"] == "system" and applied["details"]["profile_id"] == "prof-100"
        assert applied["details"]["attempt"] == 2


def test_a_package_change_needs_a_billing_role_a_sellable_package_and_a_day_not_past(conn):
    _, support = admin_with_token(conn, role="support")
    _, billing = admin_with_token(conn, role="billing_admin")
    old, new = _packages(conn)
    retired = insert_package(conn, name="Retired", is_sellable=False)
    service, _ = service_with_line(conn, None, package_id=old, price="499.00", subscriber=False)
    with clock.moved_to(TENTH_MARCH):
        body = {"package_id": new, "effective_date": "2026-03-15", "reason": "Upgrade"}
        assert call_api(*_change(service), token=support, body=body)[0] == 403
        assert (
            call_api(*_change(service), token=billing, body={**body, "effective_date": "2026-03-09"})[0]
            == 422
        )
        assert call_api(*_change(service), token=billing, body={**body, "package_id": retired})[0] == 409
        assert call_api(*_change(service), token=billing, body={**body, "package_id": old})[0] == 422
    assert not [e for e in log_rows(conn, service) if e["action"] == "price_change"]


def test_a_customer_asks_for_a_package_sees_its_requests_and_the_admins_decision(conn):
    # Given a customer with a service on Fibre 25, and another customer
    old, new = _packages(conn)
    me, my_token = customer_with_token(conn)
    _, their_token = customer_with_token(conn)
    my_service, _ = service_with_line(
        conn, None, customer_id=me, package_id=old, price="499.00", subscriber=False
    )
    _, billing = admin_with_token(conn, role="billing_admin")
    _, support = admin_with_token(conn, role="support")
    with clock.moved_to(TENTH_MARCH):
        # When the customer asks for Fibre 100
        status, _, asked = call_api(
            *_ask(my_service), token=my_token, body={"package_id": new, "note": "Faster"}
        )
        assert status == 201 and asked["status"] == "pending", asked
        # Then a second request while it waits is a conflict, and the other customer cannot ask for it
        assert call_api(*_ask(my_service), token=my_token, body={"package_id": new})[0] == 409
        assert call_api(*_ask(my_service), token=their_token, body={"package_id": new})[0] == 404
        # And only the asker sees it
        assert [r["id"] for r in call_api(*MY_REQUESTS, token=my_token)[2]] == [asked["id"]]
        assert call_api(*MY_REQUESTS, token=their_token)[2] == []
        # And admins see it waiting
        pending = call_api(*ADMIN_REQUESTS, token=support, query="status=pending")[2]
        assert [r["id"] for r in pending] == [asked["id"]]
        # When support tries to approve it: 403; billing approves from 15 March
        approve = {"effective_date": "2026-03-15"}
        assert call_api(*_decide(asked["id"], "approve"), token=support, body=approve)[0] == 403
        status, _, decided = call_api(*_decide(asked["id"], "approve"), token=billing, body=approve)
        assert status == 200 and decided["status"] == "approved", decided
        # Then the package change was made by the change-price rule, and a second decision is a conflict
        assert [e["action"] for e in log_rows(conn, my_service)].count("price_change") == 1
        assert call_api(*_decide(asked["id"], "decline"), token=billing, body={"reason": "No"})[0] == 409
        # When the customer asks again (back to Fibre 25) and support declines it with a reason
        again = call_api(*_ask(my_service), token=my_token, body={"package_id": old})[2]
        status, _, declined = call_api(
            *_decide(again["id"], "decline"), token=support, body={"reason": "Not available in your area"}
        )
        assert status == 200 and declined["status"] == "declined"
    # Then the customer sees both decisions, with the reason
    mine = {r["id"]: r for r in call_api(*MY_REQUESTS, token=my_token)[2]}
    assert mine[asked["id"]]["effective_date"] == "2026-03-15"
    assert mine[again["id"]]["decision_reason"] == "Not available in your area"


def test_a_customer_may_not_ask_for_a_retired_package(conn):
    old, _ = _packages(conn)
    retired = insert_package(conn, name="Old LTE", is_sellable=False)
    me, token = customer_with_token(conn)
    service, _ = service_with_line(conn, None, customer_id=me, package_id=old, subscriber=False)
    status, _, problem = call_api(*_ask(service), token=token, body={"package_id": retired})
    assert status == 422 and problem["field"] == "package_id"
    assert conn.execute("select count(*) as n from service_change_requests").fetchone()["n"] == 0
