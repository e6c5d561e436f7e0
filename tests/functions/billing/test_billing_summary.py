"""GET /api/customer/billing/summary through its handler: what is owed, overdue, credit, the next invoice
(which must agree with what the billing run then bills) and payments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from isp_billing.clock import moved_to
from tests.billing_helpers import invoices_of, run_billing
from tests.events import call_api
from tests.factories import customer_with_token, insert_service
from tests.invoice_helpers import insert_invoice, insert_payment
from tests.ledger_helpers import hold_credit

SUMMARY = ("CustomerBillingSummaryFunction", "GET", "/api/customer/billing/summary")
SAST = ZoneInfo("Africa/Johannesburg")


def test_the_summary_adds_up_the_account_and_predicts_what_the_run_bills(conn):
    # Given billing day 25, R12.50 credit, a R699 service activated on 10 February 2026 (the domain example)
    me, token = customer_with_token(conn)
    conn.execute("update customer_billing set billing_day = 25 where customer_id = %s", (me,))
    hold_credit(conn, me, "12.50")
    insert_service(conn, me, price="699.00", activation_date="2026-02-10")
    # And an overdue invoice part-paid, one not yet due, a draft, and payments this year and last year
    overdue = insert_invoice(conn, me, kind="one_off", invoice_date="2026-01-05", due_date="2026-01-12")
    insert_payment(conn, overdue, "200.00", processed_at="2026-02-10 09:00+02")
    old = insert_invoice(conn, me, kind="one_off", invoice_date="2025-12-01", due_date="2025-12-08")
    insert_payment(conn, old, "699.00", processed_at="2025-12-20 09:00+02")
    insert_invoice(
        conn,
        me,
        kind="one_off",
        invoice_date="2026-02-15",
        due_date="2026-02-22",
        lines=[{"amount": "100.00", "kind": "installation", "description": "Router"}],
    )
    insert_invoice(conn, me, status="draft", invoice_date="2026-02-16", due_date="2026-02-23")
    # When the customer reads the summary on 20 February
    with moved_to(datetime(2026, 2, 20, 12, 0, tzinfo=SAST)):
        status, _, body = call_api(*SUMMARY, token=token)
    # Then the figures add up (the draft counts for nothing)
    assert status == 200, body
    assert body["balance_owed"] == "599.00" and body["overdue_amount"] == "499.00"
    assert body["credit_balance"] == "12.50"
    assert body["last_payment"] == {"date": "2026-02-10", "amount": "200.00", "method": "eft"}
    assert body["paid_this_year"] == "200.00"
    # And the next invoice is the run's own figure: 699.00 + pro-rata 338.23, less the 12.50 credit applied
    # after tax
    assert body["next_billing_date"] == "2026-02-25"
    assert body["next_invoice_amount"] == "1024.73"
    # And the run on that date bills exactly that: a total of 1037.23 with 1024.73 due
    run_billing(date(2026, 2, 25))
    recurring = [row for row in invoices_of(conn, me) if row["kind"] == "recurring"]
    assert [(row["total_amount"], row["amount_due"]) for row in recurring] == [
        (Decimal("1037.23"), Decimal(body["next_invoice_amount"]))
    ]


def test_on_a_billing_date_already_billed_the_next_date_is_a_month_on(conn):
    # Given billing day 25 and today's invoice already written
    me, token = customer_with_token(conn)
    conn.execute("update customer_billing set billing_day = 25 where customer_id = %s", (me,))
    insert_service(conn, me, price="699.00", activation_date="2026-01-01")
    run_billing(date(2026, 2, 25))
    # When the customer reads the summary later that day
    with moved_to(datetime(2026, 2, 25, 15, 0, tzinfo=SAST)):
        status, _, body = call_api(*SUMMARY, token=token)
    # Then the next billing date is 25 March, for the month's R699.00, and this invoice is owed
    assert status == 200, body
    assert body["next_billing_date"] == "2026-03-25" and body["next_invoice_amount"] == "699.00"
    assert body["balance_owed"] == "699.00" and body["overdue_amount"] == "0.00"
    assert body["last_payment"] is None and body["paid_this_year"] == "0.00"


def test_a_new_customer_with_nothing_gets_zeros(conn):
    _, token = customer_with_token(conn)
    status, _, body = call_api(*SUMMARY, token=token)
    assert status == 200, body
    assert (body["balance_owed"], body["overdue_amount"], body["credit_balance"]) == ("0.00", "0.00", "0.00")
    assert body["next_invoice_amount"] == "0.00" and body["next_billing_date"]
