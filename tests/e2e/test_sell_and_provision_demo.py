"""`serve --demo` over HTTP only: a business customer signed up and found, a package sold to them on a
24-month term, provisioned at the fake Interstellio, billed, moved to another package (the profile switches
on its day), re-priced, and cancelled inside its term with the early-termination charge on the final
invoice; the customer's overview then shows all of it."""

from __future__ import annotations

from typing import Any

import httpx

from isp_billing_cli.fakes import interstellio as fake_interstellio
from tests.e2e.demo_server import DemoServer, demo_server

ADDRESS = {"street": "3 Kloof Street", "city": "Cape Town", "postal_code": "8001"}


def _subscriber(server: DemoServer, username: str) -> dict[str, Any]:
    fake = server.values["INTERSTELLIO_URL"]
    token = httpx.post(
        f"{fake}/v3/token",
        json={
            "domain": fake_interstellio.DEFAULT_DOMAIN,
            "username": fake_interstellio.DEFAULT_USERNAME,
            "password": fake_interstellio.DEFAULT_PASSWORD,
        },
    ).json()["token"]
    [found] = httpx.get(
        f"{fake}/v1/subscribers", params={"username": username}, headers={"X-Auth-Token": token}
    ).json()["payload"]
    return dict(found)


def _move_clock(server: DemoServer, admin: str, day: str) -> None:
    moved = server.post("/api/admin/clock", admin, {"today": day})
    assert moved.status_code == 200, moved.text


def _lines(server: DemoServer, admin: str, customer_id: str, run_date: str) -> list[tuple[str, str]]:
    invoices = server.get(f"/api/admin/invoices?customer_id={customer_id}", admin).json()["items"]
    [invoice] = [i for i in invoices if i["invoice_date"] == run_date]
    detail = server.get(f"/api/admin/invoices/{invoice['id']}", admin).json()
    return [(line["kind"], line["amount"]) for line in detail["lines"]]


def test_sell_provision_bill_change_reprice_and_cancel_inside_the_term_over_http():
    with demo_server("ispb-e2e-sell-", ("--today", "2026-03-02")) as server:
        admin, cron = server.values["ADMIN_TOKEN"], server.values["CRON_SECRET"]
        # Given a business customer signed up over the API, billed on the 5th, and found by a search
        signed_up = httpx.post(
            f"{server.base}/api/admin/customers",
            headers={"authorization": f"Bearer {admin}", "Idempotency-Key": "sign-up-naledi"},
            json={
                "customer_type": "business",
                "first_name": "Naledi",
                "last_name": "Khumalo",
                "email": "accounts@khumalo-design.co.za",
                "phone": "083 555 0101",
                "company_name": "Khumalo Design (Pty) Ltd",
                "vat_number": "4987654321",
                "billing": {"billing_day": 5, "payment_terms_days": 7},
            },
            timeout=30,
        )
        assert signed_up.status_code == 201, signed_up.text
        customer = signed_up.json()["id"]
        found = server.get("/api/admin/customers?name=khumalo", admin).json()["items"]
        assert [c["id"] for c in found] == [customer]
        # Given two fibre packages in the catalogue, one sold on 24 months with a R1500 installation
        package = {
            "service_type": "fibre",
            "speed_down_mbps": 50,
            "speed_up_mbps": 50,
            "interstellio_service_id": "svc-fibre",
            "minimum_term_months": 24,
        }
        fibre_50 = server.post(
            "/api/admin/packages",
            admin,
            {
                **package,
                "name": "Fibre 50 (24 months)",
                "monthly_price": "699.00",
                "interstellio_profile_id": "prof-50",
                "installation_fee": "1500.00",
            },
        )
        assert fibre_50.status_code == 201, fibre_50.text
        fibre_100 = server.post(
            "/api/admin/packages",
            admin,
            {
                **package,
                "name": "Fibre 100 (24 months)",
                "monthly_price": "899.00",
                "interstellio_profile_id": "prof-100",
            },
        ).json()
        # When it is sold to her and activated
        order = server.post(
            f"/api/admin/customers/{customer}/services",
            admin,
            {
                "package_id": fibre_50.json()["id"],
                "installation_address": ADDRESS,
                "requested_date": "2026-03-02",
            },
        )
        assert order.status_code == 201, order.text
        service = order.json()["service_id"]
        activated = server.post(f"/api/admin/services/{service}/activate", admin, {})
        assert activated.status_code == 200, activated.text
        # Then the fake Interstellio holds her subscriber with the package's profile
        line = _subscriber(server, f"svc-{service}@{fake_interstellio.DEFAULT_DOMAIN}")
        assert (line["profile_id"], line["service_id"]) == ("prof-50", "svc-fibre")
        # And the billing run on her billing day bills the service and the installation
        _move_clock(server, admin, "2026-03-05")
        assert server.post("/api/cron/generate-invoices", cron, {}).status_code == 200
        assert ("installation", "1500.00") in _lines(server, admin, customer, "2026-03-05")
        # When she moves to Fibre 100 from 10 March
        changed = server.post(
            f"/api/admin/services/{service}/change-package",
            admin,
            {"package_id": fibre_100["id"], "effective_date": "2026-03-10", "reason": "Upgrade"},
        )
        assert changed.status_code == 200, changed.text
        # Then on 10 March the retry job switches the line's profile
        _move_clock(server, admin, "2026-03-10")
        assert server.post("/api/cron/retry-provider-sync", cron, {}).status_code == 200
        assert (
            _subscriber(server, f"svc-{service}@{fake_interstellio.DEFAULT_DOMAIN}")["profile_id"]
            == "prof-100"
        )
        # When Fibre 100 goes up to R949 from 15 April
        increase = server.post(
            f"/api/admin/packages/{fibre_100['id']}/price-increase",
            admin,
            {"monthly_price": "949.00", "effective_date": "2026-04-15", "reason": "Wholesale costs"},
        )
        # Then her service is re-priced from then and her notice is queued
        assert increase.status_code == 200, increase.text
        assert [row["service_id"] for row in increase.json()["changed"]] == [service]
        assert increase.json()["notices_queued"] == 1
        # When she cancels on 20 March with 31 March as her last day, inside the 24-month term
        _move_clock(server, admin, "2026-03-20")
        cancelled = server.post(
            f"/api/admin/services/{service}/cancel",
            admin,
            {"reason": "Emigrating", "effective_date": "2026-03-31"},
        )
        assert cancelled.status_code == 200, cancelled.text
        early = cancelled.json()["early_termination"]
        # 24 months left, 12 charged at 50 % of R899
        assert (early["months_remaining"], early["months_charged"], early["amount"]) == (24, 12, "5394.00")
        # Then her final invoice carries the early-termination charge
        _move_clock(server, admin, "2026-04-05")
        assert server.post("/api/cron/generate-invoices", cron, {}).status_code == 200
        assert ("adjustment", "5394.00") in _lines(server, admin, customer, "2026-04-05")
        # And the service's audit log tells the story
        actions = [
            entry["action"]
            for entry in server.get(f"/api/admin/services/{service}/audit-log", admin).json()["items"]
        ]
        assert {"order", "activate", "price_change", "package_change", "cancel"} <= set(actions)
        # And the customer's overview shows the service, both invoices and the story on its timeline
        overview = server.get(f"/api/admin/customers/{customer}", admin).json()
        assert [(s["id"], s["status"]) for s in overview["services"]] == [(service, "cancelled")]
        assert {i["invoice_date"] for i in overview["recent_invoices"]} >= {"2026-03-05", "2026-04-05"}
        assert {"create", "activate", "cancel"} <= {entry["action"] for entry in overview["timeline"]}
