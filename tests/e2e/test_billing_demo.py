"""`serve --demo --today`: a new user calls the cron route and then sees invoices, over real HTTP."""

from __future__ import annotations

from tests.e2e.demo_server import demo_server

TODAY = "2026-03-05"


def test_the_demo_bills_its_customers_due_today_through_the_cron_route():
    # Given the demo served with its clock on 5 March 2026
    with demo_server("ispb-billing-demo-", ("--today", TODAY)) as server:
        cron = server.values["CRON_SECRET"]
        admin = server.values["ADMIN_TOKEN"]
        assert server.get("/api/admin/clock", admin).json()["today"] == TODAY
        # When the preview is asked for and then the billing run is started by hand
        preview = server.post("/api/admin/billing/preview", admin, {"run_date": TODAY})
        assert preview.status_code == 200, preview.text
        previewed = {row["customer_id"]: row for row in preview.json()["invoices"]}
        run = server.post("/api/cron/generate-invoices", cron, {})
        # Then the run bills today's customers: the demo ones with a recurring line, a pro-rata line and
        # an installation charge, as the preview said, and Johan's R100 credit applied after tax (not a line)
        assert run.status_code == 200, run.text
        body = run.json()
        assert body["status"] == "completed" and body["details"]["billed_through"] == TODAY
        assert body["records_processed"] == len(previewed) >= 2
        johan = previewed["20000000-0000-4000-8000-000000000102"]
        kinds = sorted(line["kind"] for line in johan["lines"])
        assert kinds == ["installation", "pro_rata", "recurring"]
        assert johan["credit_applied"] == "100.00"
        # And Ayanda's 120 GB on a 100 GB cap at R10.00/GB is a R200.00 overage line
        ayanda = previewed["20000000-0000-4000-8000-000000000103"]
        [overage] = [line for line in ayanda["lines"] if line["kind"] == "overage"]
        assert (overage["amount"], overage["source"]["over_gb"]) == ("200.00", "20.000")
        logs = server.get("/api/admin/cron/logs?job=generate-invoices", admin).json()["items"]
        assert logs[0]["records_processed"] == body["records_processed"]
        jobs = {job["job_name"]: job for job in server.get("/api/admin/cron/jobs", admin).json()}
        assert jobs["generate-invoices"]["last_status"] == "completed"
        # And her invoice shows the usage it billed
        invoices = server.get(
            "/api/admin/invoices?customer_id=20000000-0000-4000-8000-000000000103", admin
        ).json()["items"]
        detail = server.get(f"/api/admin/invoices/{invoices[0]['id']}", admin).json()
        assert [usage["total_mb"] for usage in detail["usage"]] == ["122880.000"]
        assert detail["usage"][0]["percent_used"] == "120.00"
