"""`serve --demo --today`: after the billing run, a demo customer reads their invoices, the reasons of its
lines and their summary, and an admin credits it, over real HTTP."""

from __future__ import annotations

import io
from decimal import Decimal

import pypdf

from isp_billing_cli.demo import mint_token
from isp_billing_cli.demo_billing import BILLING_CUSTOMERS
from tests.e2e.demo_server import demo_server

TODAY = "2026-03-05"


def test_a_demo_customer_sees_the_invoice_the_run_wrote_and_an_admin_credits_it():
    # Given the demo served on 5 March 2026 and its billing run started by hand
    with demo_server("ispb-invoices-demo-", ("--today", TODAY)) as server:
        admin = server.values["ADMIN_TOKEN"]
        assert server.post("/api/cron/generate-invoices", server.values["CRON_SECRET"], {}).status_code == 200
        johan = mint_token(BILLING_CUSTOMERS[1][1])
        # When Johan lists his invoices and opens the one the run wrote
        listed = server.get("/api/customer/invoices", johan)
        assert listed.status_code == 200, listed.text
        [invoice] = listed.json()["items"]
        detail = server.get(f"/api/customer/invoices/{invoice['id']}", johan).json()
        # Then every line says why, in words, and the R100 of account credit is applied below the total
        reasons = {line["kind"]: line["reason"] for line in detail["lines"]}
        assert reasons["pro_rata"].startswith("Pro-rata ") and " of R899.00" in reasons["pro_rata"]
        assert reasons["recurring"].startswith("Monthly charge for ")
        assert "credit" not in reasons
        assert detail["account_credit_applied"] == "100.00"
        assert Decimal(detail["amount_due"]) == Decimal(detail["total_amount"]) - 100
        summary = server.get("/api/customer/billing/summary", johan).json()
        assert summary["balance_owed"] == detail["amount_due"]
        # And its PDF renders, with the credit below the total
        pdf = server.get(f"/api/customer/invoices/{invoice['id']}/pdf", johan)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        page = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
        assert "Less: account credit applied -R100.00" in page
        # And when an admin credits R100.00 of it, Johan sees the credit note and the lower amount due
        note = server.post(
            f"/api/admin/invoices/{invoice['id']}/credit-note",
            admin,
            {"mode": "amount", "amount": "100.00", "reason": "Installation delay"},
        )
        assert note.status_code == 201, note.text
        items = server.get("/api/customer/invoices", johan).json()["items"]
        assert sorted(item["kind"] for item in items) == ["credit_note", "recurring"]
        after = server.get(f"/api/customer/invoices/{invoice['id']}", johan).json()
        assert after["amount_credited"] == "100.00"
        history = server.get(f"/api/admin/invoices/{invoice['id']}", admin).json()["actions"]
        assert [entry["action"] for entry in history] == ["credit_note"]
