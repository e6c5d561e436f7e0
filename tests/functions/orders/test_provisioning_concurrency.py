"""Two admins activating the same pending service at the same moment: one subscriber, one activation."""

from __future__ import annotations

import threading
from datetime import datetime

from isp_billing import clock
from tests.environment import settings_environment
from tests.events import call_api
from tests.factories import admin_with_token, insert_customer, insert_package
from tests.lifecycle_helpers import fake_interstellio_for_functions, log_rows, service_row

ADDRESS = {"street": "1 Main Road", "city": "Durban", "postal_code": "4001"}


def test_two_concurrent_activations_create_one_subscriber_and_one_activation(conn):
    with (
        fake_interstellio_for_functions() as fake,
        settings_environment({"INTERSTELLIO_VIRTUAL_ID": "virt-1"}),
    ):
        # Given a pending service on a package that provisions a line
        _, first = admin_with_token(conn, role="support")
        _, second = admin_with_token(conn, role="billing_admin")
        package = insert_package(conn, interstellio_service_id="svc-1", interstellio_profile_id="prof-1")
        customer = insert_customer(conn)
        with clock.moved_to(datetime(2026, 3, 1, 12, 0)):
            body = {"package_id": package, "installation_address": ADDRESS, "requested_date": "2026-03-01"}
            service = call_api(
                "AdminCustomerServiceCreateFunction",
                "POST",
                f"/api/admin/customers/{customer}/services",
                token=first,
                body=body,
            )[2]["service_id"]
            results: list[int] = []
            barrier = threading.Barrier(2)

            def activate(token: str) -> None:
                barrier.wait()
                status = call_api(
                    "AdminServiceActivateFunction",
                    "POST",
                    f"/api/admin/services/{service}/activate",
                    token=token,
                )[0]
                results.append(status)

            # When both admins activate it at once
            threads = [threading.Thread(target=activate, args=(t,)) for t in (first, second)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        # Then one succeeded and the other found it active (409); Interstellio holds one subscriber
        assert sorted(results) == [200, 409], results
        assert len(fake.subscribers) == 1
        posts = [c for c in fake.requests if c.method == "POST" and c.path == "/v1/subscriber"]
        assert len(posts) == 1
        row = service_row(conn, service)
        assert row["status"] == "active" and row["interstellio_subscriber_id"] == next(iter(fake.subscribers))
        assert [e["action"] for e in log_rows(conn, service)].count("activate") == 1
