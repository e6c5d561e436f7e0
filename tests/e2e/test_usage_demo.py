"""`serve --demo`: after the usage sync's cron route the demo customer sees a period of usage (real HTTP)."""

from __future__ import annotations

from decimal import Decimal

from tests.e2e.demo_server import demo_server


def test_the_demo_customer_sees_usage_after_the_sync_cron_route():
    # Given the demo served (the fake Interstellio serves 40 days of usage for the demo services)
    with demo_server("ispb-usage-demo-") as server:
        cron, admin = server.values["CRON_SECRET"], server.values["ADMIN_TOKEN"]
        customer = server.values["CUSTOMER_TOKEN"]
        today = server.get("/api/admin/clock", admin).json()["today"]
        period_start = server.get("/api/customer/usage", customer).json()["period_start"]
        # When the sync runs by hand over the current period so far
        run = server.post("/api/cron/sync-usage-data", cron, {"start_date": period_start, "end_date": today})
        # Then it completes, and the customer's period shows a day of usage per day so far, with totals
        assert run.status_code == 200, run.text
        assert run.json()["status"] == "completed" and run.json()["records_processed"] >= 1
        usage = server.get("/api/customer/usage", customer).json()
        synced = [service for service in usage["services"] if service["days"]]
        assert synced and usage["last_synced_at"] is not None
        assert {day["usage_date"] for day in synced[0]["days"]} >= {period_start, today}
        assert Decimal(synced[0]["totals"]["total_mb"]) > 0


def test_the_demo_usage_webhooks_refuse_an_unsigned_call_as_a_deployment_does():
    # Given the demo served (its usage webhooks have secrets, as a deployment's do)
    with demo_server("ispb-usage-hooks-") as server:
        # When the push webhook is called unsigned and the meter webhook with a wrong token
        push = server.post("/api/webhooks/interstellio/usage", None, {"unit": "KB", "records": []})
        meter = server.post("/api/webhooks/interstellio/usage-meter?token=wrong", None, {})
        # Then both answer 401 (before: 500 "misconfigured", found by the fuzz pass), and nothing is written
        assert push.status_code == 401, push.text
        assert meter.status_code == 401, meter.text
