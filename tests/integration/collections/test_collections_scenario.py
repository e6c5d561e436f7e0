"""Three months of collections, day by day: debit runs, the bank's answers (paid, returned 02 before and
after a paid line, never answered), EFTs, overdue enforcement and the e-mails they queue, with every
invariant checked as the days go:

- no invoice is collected twice (at most one successful collection each, never more paid than billed);
- no collection is left `submitted` past its time without a statement line or an open validation error;
- no customer is suspended while a debit for them is in flight or after paying what was past due;
- PASA: no re-debit before the next mandated date after a return, and two consecutive 02s block the mandate.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest

from isp_billing.collections.action_dates import next_mandated_date
from isp_billing_cli.fakes import interstellio as fake_interstellio
from isp_billing_cli.fakes import netcash as fake_netcash
from tests.collections_helpers import (
    debit_customer,
    issued_invoice,
    netcash_for_jobs,
    pay_by_eft,
    run_debit_orders,
    run_overdue,
    run_reconcile,
)
from tests.factories import insert_customer
from tests.lifecycle_helpers import fake_interstellio_for_functions, service_row, service_with_line

START, END = date(2026, 3, 1), date(2026, 5, 31)
MONTHS = [date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)]


@pytest.fixture
def interstellio(clean_db: str) -> Iterator[fake_interstellio.FakeInterstellio]:
    with fake_interstellio_for_functions() as server:
        yield server


@pytest.fixture
def netcash(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_netcash.FakeNetcash]:
    yield from netcash_for_jobs(monkeypatch)


@dataclass
class Customer:
    label: str
    customer_id: str
    service_id: str
    debit_day: int | None
    # (invoice month index, attempt) -> the bank's answer: paid, unpaid, paid_then_unpaid, silent
    answers: dict[tuple[int, int], str]
    # invoice month index -> day the customer pays by EFT
    eft: dict[int, date]


def _customers(conn: psycopg.Connection, interstellio: fake_interstellio.FakeInterstellio) -> list[Customer]:
    def debit(label: str, debit_day: int, answers: dict[tuple[int, int], str]) -> Customer:
        customer, _ = debit_customer(conn, debit_day=debit_day)
        service, _ = service_with_line(conn, interstellio, customer_id=customer)
        return Customer(label, customer, service, debit_day, answers, {})

    eft_payer = insert_customer(conn)
    eft_service, _ = service_with_line(conn, interstellio, customer_id=eft_payer)
    return [
        debit("always paid", 1, {}),
        debit("returned then paid", 1, {(0, 1): "unpaid"}),
        debit("late return then paid", 1, {(0, 1): "paid_then_unpaid"}),
        debit("debit day 25", 25, {}),
        debit("two 02s", 1, {(0, 1): "unpaid", (0, 2): "unpaid"}),
        debit("never answered", 1, {(0, 1): "silent"}),
        Customer("eft", eft_payer, eft_service, None, {}, {0: date(2026, 3, 5), 1: date(2026, 4, 27)}),
    ]


def _settle_new_collections(
    conn: psycopg.Connection,
    netcash: fake_netcash.FakeNetcash,
    customers: list[Customer],
    invoices: dict[str, int],
    answered: set[str],
) -> None:
    """Put the bank's scripted answer for each collection submitted since the last call on its statement."""
    rows = conn.execute(
        "select id, customer_id, invoice_id, attempt_number, action_date from payment_transactions"
        " where kind = 'collection' and status = 'submitted'"
    ).fetchall()
    by_id = {c.customer_id: c for c in customers}
    for row in rows:
        if str(row["id"]) in answered:
            continue
        answered.add(str(row["id"]))
        customer = by_id[str(row["customer_id"])]
        answer = customer.answers.get((invoices[str(row["invoice_id"])], row["attempt_number"]), "paid")
        extra1, action = str(row["id"]), row["action_date"]
        if answer in ("paid", "paid_then_unpaid"):
            netcash.debit_orders.settle(extra1, "paid", day=action)
        if answer == "unpaid":
            netcash.debit_orders.settle(extra1, "unpaid", day=action + timedelta(days=3), code="02")
        if answer == "paid_then_unpaid":
            netcash.debit_orders.settle(extra1, "unpaid", day=action + timedelta(days=4), code="02")


def _check_no_invoice_collected_twice(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        """
        select i.id, i.total_amount, i.amount_paid,
               count(t.id) filter (where t.kind = 'collection' and t.status = 'successful') as successful
          from customer_invoices i left join payment_transactions t on t.invoice_id = i.id
         group by i.id
        """
    ).fetchall()
    for row in rows:
        assert row["successful"] <= 1 and Decimal("0") <= row["amount_paid"] <= row["total_amount"], row


def _check_pasa(conn: psycopg.Connection, customers: list[Customer]) -> None:
    days = {c.customer_id: c.debit_day for c in customers}
    rows = conn.execute(
        """
        select t.customer_id, t.invoice_id, t.action_date, t.status,
               coalesce(r.failure_code, t.failure_code) as code
          from payment_transactions t
          left join payment_transactions r on r.original_transaction_id = t.id and r.kind = 'reversal'
         where t.kind = 'collection' order by t.invoice_id, t.action_date
        """
    ).fetchall()
    for earlier, later in itertools.pairwise(rows):
        if earlier["invoice_id"] == later["invoice_id"] and earlier["status"] in ("failed", "reversed"):
            debit_day = days[str(earlier["customer_id"])]
            assert debit_day is not None
            assert later["action_date"] >= next_mandated_date(earlier["action_date"], debit_day), later


def _check_suspensions(conn: psycopg.Connection, before: set[str], day: date) -> set[str]:
    """New non-payment suspensions: none of a customer with a debit in flight, or owing nothing past grace."""
    rows = conn.execute(
        "select x.id, s.customer_id from service_suspensions x"
        " join customer_services s on s.id = x.service_id where x.suspension_type = 'non_payment'"
    ).fetchall()
    for row in rows:
        if str(row["id"]) in before:
            continue
        live = conn.execute(
            "select count(*) as n from payment_transactions where customer_id = %s and kind = 'collection'"
            " and status in ('pending', 'submitted')",
            (row["customer_id"],),
        ).fetchone()["n"]
        owing = conn.execute(
            "select count(*) as n from customer_invoices where customer_id = %s and amount_due > 0"
            " and due_date < %s",
            (row["customer_id"], day - timedelta(days=14)),
        ).fetchone()["n"]
        assert live == 0 and owing > 0, (day, row)
    return {str(row["id"]) for row in rows}


def _check_nothing_waits_silently(conn: psycopg.Connection, last_read: date) -> None:
    rows = conn.execute(
        """
        select t.id, t.action_date,
               exists (select 1 from validation_errors v where v.record_id = t.id
                        and v.error_code = 'collection_unanswered' and v.resolved_at is null) as reported
          from payment_transactions t
         where t.kind = 'collection' and t.status = 'submitted'
        """
    ).fetchall()
    for row in rows:
        # 10 business days are at most 16 calendar days here (no run of holidays longer than a weekend+2)
        if row["action_date"] + timedelta(days=16) <= last_read:
            assert row["reported"], row


def test_three_months_of_collections_hold_every_invariant(
    conn: psycopg.Connection,
    interstellio: fake_interstellio.FakeInterstellio,
    netcash: fake_netcash.FakeNetcash,
) -> None:
    # Given seven customers with a line each: five debit-order scripts, one never answered, one EFT payer
    customers = _customers(conn, interstellio)
    invoices: dict[str, int] = {}
    answered: set[str] = set()
    suspensions: set[str] = set()
    by_label = {c.label: c for c in customers}
    # When every day from 1 March to 31 May: invoices on the 1st, EFTs, the debit run, the bank's answers,
    # reconciliation and overdue enforcement, checking the invariants each day
    day = START
    while day <= END:
        if day in MONTHS:
            for customer in customers:
                invoices[issued_invoice(conn, customer.customer_id, invoice_date=day)] = MONTHS.index(day)
        for customer in customers:
            for month, paid_on in customer.eft.items():
                if paid_on == day:
                    (invoice,) = [
                        i
                        for i, m in invoices.items()
                        if m == month and _owner(conn, i) == customer.customer_id
                    ]
                    status, _, body = pay_by_eft(conn, invoice, "699.00", day)
                    assert status == 201, body
        run_debit_orders(day)
        _settle_new_collections(conn, netcash, customers, invoices, answered)
        run_reconcile(day)
        run_overdue(day)
        _check_no_invoice_collected_twice(conn)
        _check_pasa(conn, customers)
        suspensions = _check_suspensions(conn, suspensions, day)
        _check_nothing_waits_silently(conn, day - timedelta(days=1))
        day += timedelta(days=1)
    # Then the paying debit-order customers' invoices are all paid, once
    for label in ("always paid", "returned then paid", "late return then paid", "debit day 25"):
        statuses = _invoice_statuses(conn, by_label[label])
        assert statuses == ["paid", "paid", "paid"], (label, statuses)
        assert service_row(conn, by_label[label].service_id)["status"] == "active", label
    # And the late return was a reversal, its re-debit on the next mandated date (1 April)
    late = _collections(conn, by_label["late return then paid"])
    assert [(c["kind"], c["status"]) for c in late[:3]] == [
        ("collection", "reversed"),
        ("reversal", "successful"),
        ("collection", "successful"),
    ]
    assert late[2]["action_date"] == date(2026, 4, 1)
    # And two consecutive 02s blocked the mandate: no debit was submitted after the block
    two = by_label["two 02s"]
    (block,) = conn.execute(
        "select created_at from mandate_collection_blocks where customer_id = %s", (two.customer_id,)
    ).fetchall()
    assert all(
        c["created_at"] < block["created_at"] for c in _collections(conn, two) if c["kind"] == "collection"
    )
    # And the collection NetCash never answered is a visible validation error, its customer not suspended
    silent = by_label["never answered"]
    (stuck,) = [c for c in _collections(conn, silent) if c["status"] == "submitted"]
    assert (
        conn.execute(
            "select count(*) as n from validation_errors"
            " where record_id = %s and error_code = 'collection_unanswered'",
            (stuck["id"],),
        ).fetchone()["n"]
        == 1
    )
    assert service_row(conn, silent.service_id)["status"] == "active"
    # And the EFT payer was suspended after April's grace and reactivated by the payment
    eft = by_label["eft"]
    assert service_row(conn, eft.service_id)["status"] == "suspended"  # May's invoice is unpaid past grace
    assert _invoice_statuses(conn, eft)[:2] == ["paid", "paid"]
    # And every returned debit queued exactly one debit_failed e-mail
    mails = conn.execute("select dedupe_key from notifications where kind = 'debit_failed'").fetchall()
    returned = conn.execute(
        "select count(*) as n from payment_transactions where kind = 'collection'"
        " and (status = 'failed' or status = 'reversed')"
    ).fetchone()["n"]
    assert len(mails) == len({m["dedupe_key"] for m in mails}) == returned


def _owner(conn: psycopg.Connection, invoice_id: str) -> str:
    row = conn.execute("select customer_id from customer_invoices where id = %s", (invoice_id,)).fetchone()
    return str(row["customer_id"])


def _invoice_statuses(conn: psycopg.Connection, customer: Customer) -> list[str]:
    rows = conn.execute(
        "select status from customer_invoices where customer_id = %s order by invoice_date",
        (customer.customer_id,),
    ).fetchall()
    return [row["status"] for row in rows]


def _collections(conn: psycopg.Connection, customer: Customer) -> list[dict]:
    return conn.execute(
        "select * from payment_transactions where customer_id = %s order by created_at",
        (customer.customer_id,),
    ).fetchall()
