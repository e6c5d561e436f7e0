"""The billing run on a real PostgreSQL: invoices, lines, numbers, cycles, catch-up, validation errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.billing_helpers import billed_customer, invoices_of, lines_of, run_billing, table_counts


def test_the_domain_worked_example_is_invoiced_to_the_cent(conn):
    # Given billing day 25 and a R699 service activated on 10 February 2026
    customer, _ = billed_customer(conn, services=[{"price": "699.00", "activation_date": "2026-02-10"}])
    # When the run bills 25 February
    row = run_billing(date(2026, 2, 25))
    # Then one issued invoice with the pro-rata line and the month, numbered, its cycle invoiced
    assert row["status"] == "completed" and row["records_processed"] == 1
    [invoice] = invoices_of(conn, customer)
    assert lines_of(conn, invoice["id"]) == [("recurring", "699.00"), ("pro_rata", "338.23")]
    assert invoice["invoice_number"] == "INV-2026-00001" and invoice["status"] == "issued"
    assert (invoice["total_amount"], invoice["vat_amount"], invoice["subtotal"]) == (
        Decimal("1037.23"),
        Decimal("135.29"),
        Decimal("901.94"),
    )
    assert invoice["vat_rate"] == Decimal("15.00") and invoice["due_date"] == date(2026, 3, 4)
    assert (invoice["period_start"], invoice["period_end"]) == (date(2026, 2, 25), date(2026, 3, 24))
    cycle = conn.execute("select * from billing_cycles where customer_id = %s", (customer,)).fetchone()
    assert cycle["status"] == "invoiced" and cycle["invoice_id"] == invoice["id"]
    assert invoice["billing_cycle_id"] == cycle["id"]
    source = conn.execute(
        "select source from invoice_line_items where invoice_id = %s and kind = 'pro_rata'", (invoice["id"],)
    ).fetchone()["source"]
    assert source["rule"] == "activation_pro_rata" and source["segments"][0]["billable_days"] == 15


def test_a_second_run_changes_nothing(conn):
    # Given a billed run date
    billed_customer(conn, billing_day=5)
    run_billing(date(2026, 3, 5))
    before = table_counts(conn)
    # When the same date is run again (and a later date with nobody due)
    again = run_billing(date(2026, 3, 5))
    # Then nothing is written twice
    assert table_counts(conn) == before and again["records_processed"] == 0


def test_catch_up_bills_every_missed_date_once_and_numbers_are_gap_free(conn):
    # Given customers billed on the 1st, 2nd and 3rd, and a completed run on 28 February
    customers = [billed_customer(conn, billing_day=day)[0] for day in (1, 2, 3, 4)]
    run_billing(date(2026, 2, 28))
    # When the next run happens only on 3 March
    row = run_billing(date(2026, 3, 3))
    # Then 1, 2 and 3 March are billed (not the 4th), numbered 1..3 without a gap
    assert row["details"]["billed_from"] == "2026-03-01" and row["records_processed"] == 3
    assert [len(invoices_of(conn, c)) for c in customers] == [1, 1, 1, 0]
    numbers = sorted(
        r["invoice_number"] for r in conn.execute("select invoice_number from customer_invoices")
    )
    assert numbers == ["INV-2026-00001", "INV-2026-00002", "INV-2026-00003"]


def test_catch_up_is_bounded_by_the_setting_and_the_next_runs_bill_the_rest_in_order(conn, monkeypatch):
    # Given a completed run long ago and the default bound of 35 days
    customer, _ = billed_customer(conn, billing_day=1)
    run_billing(date(2025, 6, 1))
    # When the next run is months later
    row = run_billing(date(2026, 3, 10))
    # Then it starts the day after the last completed run, bills 35 days from the first date still to bill
    # (1 July, 1 August), and ends partial with the customer's later dates named, not dropped
    assert row["details"]["billed_from"] == "2025-06-02"
    assert row["status"] == "partial" and row["details"]["deferred_customers"] == 1
    cycles = conn.execute("select period_start from billing_cycles where customer_id = %s", (customer,))
    assert [str(c["period_start"]) for c in cycles.fetchall()] == ["2025-06-01", "2025-07-01", "2025-08-01"]
    # When the runs go on / Then each reaches further, in order, until one completes with March billed
    statuses = [run_billing(date(2026, 3, 10))["status"] for _ in range(8)]
    assert statuses[-1] == "completed" and "partial" in statuses
    march = conn.execute(
        "select count(*) as n from customer_invoices where customer_id = %s and period_start = '2026-03-01'",
        (customer,),
    ).fetchone()
    assert march["n"] == 1


def test_test_customers_are_not_billed(conn):
    customer, _ = billed_customer(conn, billing_day=5, is_test=True)
    run_billing(date(2026, 3, 5))
    assert invoices_of(conn, customer) == []


def test_an_inconsistent_customer_gets_one_validation_error_and_the_run_is_partial(conn):
    # Given a good customer and one whose billing row is missing
    good, _ = billed_customer(conn, billing_day=5)
    bad, _ = billed_customer(conn, billing_day=5)
    conn.execute("delete from customer_billing where customer_id = %s", (bad,))
    # When the run bills 5 March, twice
    row = run_billing(date(2026, 3, 5))
    run_billing(date(2026, 3, 5))
    # Then the good one is billed, the bad one skipped with one open validation error, the run partial
    assert row["status"] == "partial" and (row["records_processed"], row["records_failed"]) == (1, 1)
    assert len(invoices_of(conn, good)) == 1 and invoices_of(conn, bad) == []
    errors = conn.execute("select * from validation_errors").fetchall()
    assert [(e["source"], e["error_code"], str(e["record_id"])) for e in errors] == [
        ("billing_run", "missing_billing_row", bad)
    ]


def test_credit_balance_is_applied_once_and_never_makes_an_invoice_negative(conn):
    # Given a customer with R100 credit
    customer, _ = billed_customer(conn, billing_day=5, credit="100.00")
    # When billed, and the run repeated
    run_billing(date(2026, 3, 5))
    run_billing(date(2026, 3, 5))
    # Then the credit is used once, after tax: the invoice is for what was supplied, R100 of it paid by credit
    [invoice] = invoices_of(conn, customer)
    assert (invoice["total_amount"], invoice["amount_paid"], invoice["amount_due"]) == (
        Decimal("699.00"),
        Decimal("100.00"),
        Decimal("599.00"),
    )
    assert invoice["vat_amount"] == Decimal("91.17")
    balance = conn.execute("select credit_balance from customer_billing where customer_id = %s", (customer,))
    assert balance.fetchone()["credit_balance"] == Decimal("0.00")


def test_a_customer_with_nothing_to_bill_gets_a_skipped_cycle(conn):
    customer, _ = billed_customer(conn, billing_day=5, services=[{"status": "pending"}])
    run_billing(date(2026, 3, 5))
    cycle = conn.execute("select status from billing_cycles where customer_id = %s", (customer,)).fetchone()
    assert cycle["status"] == "skipped" and invoices_of(conn, customer) == []


def test_a_dry_run_writes_nothing_but_its_log(conn):
    billed_customer(conn, billing_day=5)
    before = table_counts(conn)
    row = run_billing(date(2026, 3, 5), dry_run=True)
    assert table_counts(conn) == before
    assert row["records_processed"] == 1 and row["details"]["dry_run"] is True


def test_lines_of_an_issued_invoice_still_cannot_be_added_later(conn):
    import psycopg
    import pytest

    customer, _ = billed_customer(conn, billing_day=5)
    run_billing(date(2026, 3, 5))
    [invoice] = invoices_of(conn, customer)
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
        conn.execute(
            "insert into invoice_line_items (invoice_id, kind, description, unit_amount, amount)"
            " values (%s, 'adjustment', 'late', 1, 1)",
            (invoice["id"],),
        )
