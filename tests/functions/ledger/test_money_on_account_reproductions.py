"""The ways money on an account was lost or invented before the ledger, each reproduced through the routes
and jobs that did it (the API, the billing run, NetCash's statement through reconciliation), and each now
keeping every rand: nothing lost, nothing invented."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from isp_billing.clock import SAST, moved_to, sast_today
from isp_billing_cli.fakes import netcash as fake_netcash
from tests.billing_helpers import billed_customer, invoices_of, run_billing
from tests.collections_helpers import (
    collections_of,
    debit_customer,
    invoice_row,
    issued_invoice,
    netcash_for_jobs,
    pay_by_eft,
    run_debit_orders,
    run_reconcile,
)
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token

INVOICE_DATE = date(2026, 3, 1)
RUN_DATE = date(2026, 3, 2)


@pytest.fixture
def netcash(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_netcash.FakeNetcash]:
    yield from netcash_for_jobs(monkeypatch)


@pytest.fixture
def token(conn: psycopg.Connection) -> str:
    return admin_with_token(conn, role="billing_admin")[1]


def _credit(token: str, invoice_id: Any, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    return call_api(
        "AdminInvoiceCreditNoteFunction",
        "POST",
        f"/api/admin/invoices/{invoice_id}/credit-note",
        token=token,
        body={"reason": "Correction", **body},
    )


def _reverse(token: str, payment_id: str) -> tuple[int, dict[str, str], Any]:
    return call_api(
        "AdminPaymentReverseFunction",
        "POST",
        f"/api/admin/payments/{payment_id}/reverse",
        token=token,
        body={"reason": "Captured twice"},
    )


def _balance(conn: psycopg.Connection, customer: str) -> Decimal:
    row = conn.execute("select credit_balance from customer_billing where customer_id = %s", (customer,))
    return Decimal(row.fetchone()["credit_balance"])


def _collected(conn: psycopg.Connection) -> tuple[str, str, dict[str, Any]]:
    """A debit-order customer, an R699.00 invoice of 1 March, and its collection submitted to NetCash."""
    customer, _ = debit_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=INVOICE_DATE)
    run_debit_orders(RUN_DATE)
    (collection,) = [c for c in collections_of(conn, invoice) if c["status"] == "submitted"]
    return customer, invoice, collection


def test_a_credit_note_on_an_invoice_that_used_account_credit_gives_that_credit_back(
    conn: psycopg.Connection, token: str
) -> None:
    # Given an R699 month paid with R1000 by EFT (R301 over), and the next month's invoice that used the R301
    customer, _ = billed_customer(conn, billing_day=5, services=[{"price": "699.00"}])
    run_billing(date(2026, 3, 5))
    (march,) = invoices_of(conn, customer)
    assert pay_by_eft(conn, str(march["id"]), "1000.00", date(2026, 3, 6), token=token)[0] == 201
    run_billing(date(2026, 4, 5))
    april = invoices_of(conn, customer)[1]
    service_line = conn.execute(
        "select id from invoice_line_items where invoice_id = %s and kind = 'recurring'", (april["id"],)
    ).fetchone()
    # When the April service line (R699) is credited in full
    status, _, body = _credit(
        token, april["id"], {"mode": "lines", "lines": [{"line_id": str(service_line["id"])}]}
    )
    # Then it is accepted, April is settled, and the R301 the customer had paid is theirs again
    assert status == 201, body
    assert body["credit_note"]["total_amount"] == "-699.00"
    assert (invoice_row(conn, april["id"])["status"], invoice_row(conn, april["id"])["amount_due"]) == (
        "paid",
        Decimal("0.00"),
    )
    assert _balance(conn, customer) == Decimal("301.00")


def test_a_full_note_while_a_debit_is_in_flight_then_the_debit_bounces_leaves_nothing_owed_or_invented(
    conn: psycopg.Connection, token: str, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given an R699 invoice whose debit order is in flight, credited in full
    customer, invoice, collection = _collected(conn)
    assert _credit(token, invoice, {"mode": "full"})[0] == 201
    # When the debit comes back unpaid
    netcash.debit_orders.settle(str(collection["id"]), "unpaid", day=date(2026, 3, 5), code="02")
    run_reconcile(date(2026, 3, 6))
    # Then the invoice stays settled by its credit note and no credit was invented
    row = invoice_row(conn, invoice)
    assert (row["status"], row["amount_due"], row["amount_credited"]) == (
        "paid",
        Decimal("0.00"),
        Decimal("699.00"),
    )
    assert _balance(conn, customer) == Decimal("0.00")


def test_a_paid_invoice_credited_in_full_stays_settled_when_its_eft_is_reversed(
    conn: psycopg.Connection, token: str
) -> None:
    # Given an R699 invoice paid by EFT, then credited in full
    customer, _ = debit_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=sast_today())
    payment = pay_by_eft(conn, invoice, "699.00", token=token)[2]
    assert _credit(token, invoice, {"mode": "full"})[0] == 201
    # When the EFT is reversed (it never cleared)
    status, _, body = _reverse(token, payment["id"])
    # Then the invoice a credit note settled stays settled, and the EFT's money is simply gone again
    assert status == 201, body
    assert (body["invoice_status"], body["invoice_amount_due"]) == ("paid", "0.00")
    assert _balance(conn, customer) == Decimal("0.00")


def test_a_debit_landing_on_an_eft_paid_invoice_is_named_credit_and_its_dispute_takes_back_only_that(
    conn: psycopg.Connection, token: str, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given an R699 invoice with its debit in flight, paid meanwhile by EFT
    customer, invoice, collection = _collected(conn)
    assert pay_by_eft(conn, invoice, "699.00", date(2026, 3, 3), token=token)[0] == 201
    # When the debit is paid too
    netcash.debit_orders.settle(str(collection["id"]), "paid")
    run_reconcile(date(2026, 3, 6))
    # Then the R699 is credit and the customer is told
    assert _balance(conn, customer) == Decimal("699.00")
    told = conn.execute(
        "select kind, data from notifications where customer_id = %s and kind = 'payment_to_credit'",
        (customer,),
    ).fetchall()
    assert [(n["kind"], n["data"]["amount"]) for n in told] == [("payment_to_credit", "699.00")]
    # When the customer then disputes the debit
    netcash.debit_orders.settle(str(collection["id"]), "disputed", day=date(2026, 3, 20))
    run_reconcile(date(2026, 3, 21))
    # Then only the debit's credit goes; the EFT-paid invoice stays paid (no suspension reason)
    row = invoice_row(conn, invoice)
    assert (row["status"], row["amount_due"], row["amount_paid"]) == (
        "paid",
        Decimal("0.00"),
        Decimal("699.00"),
    )
    assert _balance(conn, customer) == Decimal("0.00")


def test_reversing_a_duplicate_eft_leaves_the_invoice_paid(conn: psycopg.Connection, token: str) -> None:
    # Given an R699 invoice paid by EFT, and the same EFT captured a second time (R699 credit)
    customer, _ = debit_customer(conn)
    invoice = issued_invoice(conn, customer, invoice_date=sast_today())
    first = pay_by_eft(conn, invoice, "699.00", token=token)[2]
    duplicate = pay_by_eft(conn, invoice, "699.00", token=token)[2]
    paid_at = invoice_row(conn, invoice)["paid_at"]
    assert _balance(conn, customer) == Decimal("699.00") and first["invoice_status"] == "paid"
    # When the duplicate is reversed
    status, _, body = _reverse(token, duplicate["id"])
    # Then the invoice is still paid, when it was paid, and the duplicate's credit is gone
    assert status == 201, body
    row = invoice_row(conn, invoice)
    assert (row["status"], row["amount_due"], row["paid_at"]) == ("paid", Decimal("0.00"), paid_at)
    assert _balance(conn, customer) == Decimal("0.00")


def test_a_write_off_is_refused_while_a_debit_is_in_flight(
    conn: psycopg.Connection, token: str, netcash: fake_netcash.FakeNetcash
) -> None:
    # Given an R699 invoice with its debit in flight
    _, invoice, collection = _collected(conn)
    # When a billing admin writes it off
    status, _, body = call_api(
        "AdminInvoiceWriteOffFunction",
        "POST",
        f"/api/admin/invoices/{invoice}/write-off",
        token=token,
        body={"reason": "Customer emigrated"},
    )
    # Then it is refused (the bank's answer may still pay it), and when the debit settles the invoice is
    # simply paid, nothing written off
    assert status == 409, body
    netcash.debit_orders.settle(str(collection["id"]), "paid")
    run_reconcile(date(2026, 3, 6))
    row = invoice_row(conn, invoice)
    assert (row["status"], row["amount_paid"], row["amount_written_off"]) == ("paid", Decimal("699.00"), None)


def test_credits_beyond_the_new_charges_are_a_credit_note_and_nothing_is_billed_after_the_end(
    conn: psycopg.Connection,
) -> None:
    # Given an R699 service invoiced for 5 March - 4 April (31 days) and cancelled from 20 March (15 unused:
    # 699 x 15 / 31 = 338.23)
    customer, (service,) = billed_customer(conn, billing_day=5, services=[{"price": "699.00"}])
    run_billing(date(2026, 3, 5))
    conn.execute(
        "update customer_services set status = 'cancelled', cancellation_effective_date = '2026-03-20'"
        " where id = %s",
        (service,),
    )
    # When April and May are billed
    run_billing(date(2026, 4, 5))
    run_billing(date(2026, 5, 5))
    # Then April is a credit note for the unused days (no R0.00 invoice with a balancing line), May nothing
    documents = invoices_of(conn, customer)
    assert [(d["kind"], f"{d['total_amount']:.2f}") for d in documents] == [
        ("recurring", "699.00"),
        ("credit_note", "-338.23"),
    ]
    assert documents[1]["credit_note_for"] == documents[0]["id"]
    assert _balance(conn, customer) == Decimal("338.23")
    mails = conn.execute("select subject from notifications where customer_id = %s", (customer,)).fetchall()
    assert [m["subject"] for m in mails] == [f"Your tax invoice {documents[0]['invoice_number']}"]
    assert (
        conn.execute(
            "select count(*) as n from invoice_line_items where amount > 0 and invoice_id = %s",
            (documents[1]["id"],),
        ).fetchone()["n"]
        == 0
    )


def test_the_billing_summary_counts_eft_and_cash(conn: psycopg.Connection, token: str) -> None:
    # Given an R699 invoice paid by EFT today
    customer, customer_token = customer_with_token(conn)
    invoice = issued_invoice(conn, customer, invoice_date=sast_today())
    assert pay_by_eft(conn, invoice, "699.00", sast_today(), token=token)[0] == 201
    # When the customer reads their billing summary
    with moved_to(datetime.combine(sast_today(), datetime.min.time(), tzinfo=SAST).replace(hour=12)):
        status, _, body = call_api(
            "CustomerBillingSummaryFunction", "GET", "/api/customer/billing/summary", token=customer_token
        )
    # Then the EFT is this year's payment and the last one
    assert status == 200, body
    assert body["paid_this_year"] == "699.00"
    assert body["last_payment"] == {"date": str(sast_today()), "amount": "699.00", "method": "eft"}
