"""Account credit applied after tax, as the customer sees it: the invoice through the API, its PDF and the
billing summary agree, and the VAT is on the whole supply."""

from __future__ import annotations

import io
from datetime import date, datetime

import psycopg
import pypdf

from isp_billing.clock import SAST, moved_to
from isp_billing_cli.demo import mint_token
from tests.billing_helpers import billed_customer, invoices_of, run_billing
from tests.events import call_api, call_api_raw
from tests.factories import admin_with_token
from tests.ledger_helpers import hold_credit


def test_the_invoice_api_the_pdf_and_the_summary_show_the_credit_applied_below_the_total(
    conn: psycopg.Connection,
) -> None:
    # Given a customer of an R699 service holding R115.00 of credit (an earlier overpayment)
    customer, _ = billed_customer(conn, billing_day=5, services=[{"price": "699.00"}, {"price": "399.00"}])
    hold_credit(conn, customer, "115.00")
    # When the run bills 5 March
    run_billing(date(2026, 3, 5))
    (invoice,) = invoices_of(conn, customer)
    token = _customer_token(conn, customer)
    # Then the invoice is for the whole supply, R1,098 with R143.22 VAT (not R983 with R128.22)
    status, _, body = call_api(
        "CustomerInvoiceGetFunction", "GET", f"/api/customer/invoices/{invoice['id']}", token=token
    )
    assert status == 200, body
    assert (body["total_amount"], body["vat_amount"]) == ("1098.00", "143.22")
    assert (body["account_credit_applied"], body["amount_due"], body["status"]) == (
        "115.00",
        "983.00",
        "partially_paid",
    )
    assert all(line["amount"] != "-115.00" for line in body["lines"])
    # And the PDF shows the same below the total
    status, _, pdf = call_api_raw(
        "CustomerInvoicePdfFunction", "GET", f"/api/customer/invoices/{invoice['id']}/pdf", token=token
    )
    assert status == 200
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for field in ("Total R1,098.00", "Less: account credit applied -R115.00", "Amount due R983.00"):
        assert field in text
    # And the summary owes the same and has no credit left
    with moved_to(datetime(2026, 3, 6, 12, 0, tzinfo=SAST)):
        status, _, summary = call_api(
            "CustomerBillingSummaryFunction", "GET", "/api/customer/billing/summary", token=token
        )
    assert status == 200, summary
    assert (summary["balance_owed"], summary["credit_balance"]) == ("983.00", "0.00")
    # And the admin sees the allocation too
    _, admin = admin_with_token(conn, role="billing_admin")
    status, _, detail = call_api(
        "AdminInvoiceGetFunction", "GET", f"/api/admin/invoices/{invoice['id']}", token=admin
    )
    assert status == 200 and detail["account_credit_applied"] == "115.00", detail


def _customer_token(conn: psycopg.Connection, customer: str) -> str:
    auth = conn.execute("select auth_user_id from customers where id = %s", (customer,)).fetchone()
    return mint_token(str(auth["auth_user_id"]))
