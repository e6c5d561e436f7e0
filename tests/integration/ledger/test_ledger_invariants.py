"""The ledger's invariants for any sequence of money events, against the real database (hypothesis).

Each example is a new customer; its invoices, payments (EFT, cash, debit order), reversals, credit notes (full
or by amount) and write-offs go through the code paths the routes and jobs use (ledger.postings, and
collections.payments.reverse_payment for reversals) on a service-role session. After the sequence:

- money in (payments received, credit notes) = what is allocated + the credit balance + what was taken back;
- a reversed payment has nothing left allocated anywhere, and nothing on account;
- no invoice is allocated beyond its total; its paid, credited and due figures and its status are those of
  its ledger rows;
- the credit balance is the sources' available money and never negative.

The default suite runs a bounded number of examples; tests/perf/test_ledger_invariants_many.py runs many more
(`make perf`).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isp_billing import db
from isp_billing.clock import sast_today
from isp_billing.collections.payments import reverse_payment
from isp_billing.ledger import postings
from isp_billing.money import vat_from_inclusive
from tests.factories import insert_customer

CENTS = st.integers(min_value=1, max_value=150_000).map(lambda c: Decimal(c) / 100)
EVENTS = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), CENTS),
        st.tuples(st.just("pay"), st.integers(0, 9), CENTS, st.sampled_from(["eft", "cash", "debit"])),
        st.tuples(st.just("reverse"), st.integers(0, 9)),
        st.tuples(st.just("credit_full"), st.integers(0, 9)),
        st.tuples(st.just("credit_amount"), st.integers(0, 9), CENTS),
        st.tuples(st.just("write_off"), st.integers(0, 9)),
    ),
    min_size=1,
    max_size=14,
)


def _invoice(session: psycopg.Connection, customer: str, total: Decimal, today: date) -> UUID:
    vat = vat_from_inclusive(total, Decimal("15"))
    row = session.execute(
        """
        insert into customer_invoices (customer_id, kind, invoice_date, due_date, period_start, period_end,
                                       subtotal, vat_rate, vat_amount, total_amount, status)
        values (%s, 'one_off', %s, %s, %s, %s, %s, 15, %s, %s, 'issued') returning id
        """,
        (
            customer,
            today,
            today + timedelta(days=7),
            today,
            today + timedelta(days=30),
            total - vat,
            vat,
            total,
        ),
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def _pay(session: psycopg.Connection, customer: str, invoice: UUID, amount: Decimal, method: str) -> UUID:
    kind, provider = ("collection", "netcash") if method == "debit" else ("payment", "eft")
    if method == "cash":
        provider = "manual"
    row = session.execute(
        "insert into payment_transactions (customer_id, invoice_id, amount, kind, status, provider,"
        " processed_at) values (%s, %s, %s, %s, 'successful', %s, now()) returning id",
        (customer, invoice, amount, kind, provider),
    ).fetchone()
    assert row is not None
    transaction = UUID(str(row["id"]))
    postings.receive_payments(
        session,
        [
            {
                "transaction_id": transaction,
                "customer_id": UUID(customer),
                "invoice_id": invoice,
                "amount": amount,
                "entry_date": sast_today(),
            }
        ],
        sast_today(),
    )
    return transaction


def _credit_note(session: psycopg.Connection, customer: str, invoice: UUID, amount: Decimal | None) -> None:
    row = session.execute(
        "select total_amount, coalesce((select -sum(total_amount) from customer_invoices"
        " where credit_note_for = i.id), 0) as credited, status from customer_invoices i where id = %s",
        (invoice,),
    ).fetchone()
    assert row is not None
    left = row["total_amount"] - row["credited"]
    value = left if amount is None else min(amount, left)
    if value <= 0 or row["status"] not in ("issued", "partially_paid", "paid", "overdue"):
        return
    vat = vat_from_inclusive(-value, Decimal("15"))
    note = session.execute(
        """
        insert into customer_invoices (customer_id, kind, invoice_date, due_date, subtotal, vat_rate,
                                       vat_amount, total_amount, status, credit_note_for)
        values (%s, 'credit_note', %s, %s, %s, 15, %s, %s, 'issued', %s) returning id
        """,
        (customer, sast_today(), sast_today(), -value - vat, vat, -value, invoice),
    ).fetchone()
    assert note is not None
    postings.credit_invoice(
        session,
        customer_id=UUID(customer),
        invoice_id=invoice,
        credit_note_id=UUID(str(note["id"])),
        amount=value,
        today=sast_today(),
    )


def _apply(session: psycopg.Connection, customer: str, events: list[tuple[Any, ...]]) -> list[UUID]:
    invoices: list[UUID] = []
    payments: list[UUID] = []
    today = sast_today()
    for event in events:
        name = event[0]
        if name == "invoice":
            invoices.append(_invoice(session, customer, event[1], today))
        elif name == "pay" and invoices:
            invoice = invoices[event[1] % len(invoices)]
            status = session.execute(
                "select status from customer_invoices where id = %s", (invoice,)
            ).fetchone()
            # a manual payment on a written-off invoice is refused by its route; a debit may still land
            method = event[3]
            live = session.execute(
                "select 1 from payment_transactions where invoice_id = %s and kind = 'collection'"
                " and status in ('pending', 'submitted', 'successful')",
                (invoice,),
            ).fetchone()
            if method == "debit" and live:
                method = "eft"  # one live debit order per invoice (a schema rule): a second payment is an EFT
            if (status and status["status"] != "written_off") or method == "debit":
                payments.append(_pay(session, customer, invoice, event[2], method))
        elif name == "reverse" and payments:
            original = session.execute(
                "select * from payment_transactions where id = %s for update",
                (payments[event[1] % len(payments)],),
            ).fetchone()
            if original and original["status"] == "successful":
                reverse_payment(session, original, reason="Reversed", today=today)
        elif name in ("credit_full", "credit_amount") and invoices:
            amount = event[2] if name == "credit_amount" else None
            _credit_note(session, customer, invoices[event[1] % len(invoices)], amount)
        elif name == "write_off" and invoices:
            invoice = session.execute(
                "select id, status, amount_due from customer_invoices where id = %s",
                (invoices[event[1] % len(invoices)],),
            ).fetchone()
            if (
                invoice
                and invoice["status"] in ("issued", "partially_paid", "overdue")
                and invoice["amount_due"] > 0
            ):
                postings.write_off(
                    session,
                    customer_id=UUID(customer),
                    invoice_id=invoice["id"],
                    amount=invoice["amount_due"],
                    today=today,
                )
    return invoices


def check_invariants(conn: psycopg.Connection, customer: str) -> None:
    """Every invariant of the ledger for one customer (the superuser connection reads everything)."""
    money = conn.execute(
        """
        select coalesce(sum(amount) filter (where kind in ('receipt', 'credit_note', 'opening_balance')), 0)
                 as money_in,
               coalesce(sum(amount) filter (where kind = 'allocation'), 0) as allocated,
               coalesce(sum(amount) filter (where kind in ('receipt_reversal', 'refund', 'legacy_use')), 0)
                 as taken
          from ledger_entries where customer_id = %s
        """,
        (customer,),
    ).fetchone()
    balance = conn.execute(
        "select credit_balance from customer_billing where customer_id = %s", (customer,)
    ).fetchone()["credit_balance"]
    available = conn.execute(
        "select coalesce(sum(available), 0) as a, coalesce(min(available), 0) as low"
        " from ledger_source_balances(array[%s::uuid])",
        (customer,),
    ).fetchone()
    assert money["money_in"] == money["allocated"] + balance + money["taken"]
    assert balance == available["a"] and balance >= 0 and available["low"] >= 0
    # A reversed payment: nothing of it allocated, nothing of it on account.
    leftovers = conn.execute(
        """
        select count(*) as n from ledger_source_balances(array[%s::uuid]) s
          join payment_transactions t on t.id = s.transaction_id
         where s.customer_id = %s and t.status = 'reversed'
           and (s.available <> 0
                or exists (select 1 from ledger_entries a where a.source_id = s.id and a.kind = 'allocation'
                            group by a.source_id having sum(a.amount) <> 0))
        """,
        (customer, customer),
    ).fetchone()
    assert leftovers["n"] == 0
    # Every invoice: within its total, and its columns are its ledger rows.
    for invoice in conn.execute(
        """
        select i.*, coalesce(f.paid, 0) as l_paid, coalesce(f.credited, 0) as l_credited,
               coalesce(f.written_off, 0) as l_written_off
          from customer_invoices i
          left join ledger_invoice_figures(array(select id from customer_invoices where customer_id = %s)) f
            on f.invoice_id = i.id
         where i.customer_id = %s and i.kind <> 'credit_note'
        """,
        (customer, customer),
    ):
        assert 0 <= invoice["amount_paid"] + invoice["amount_credited"] <= invoice["total_amount"]
        assert (invoice["amount_paid"], invoice["amount_credited"]) == (
            invoice["l_paid"],
            invoice["l_credited"],
        )
        assert invoice["l_written_off"] <= invoice["amount_due"]
        if invoice["amount_due"] == 0:
            assert invoice["status"] == "paid", invoice
        elif invoice["l_written_off"] > 0:
            assert invoice["status"] == "written_off"
        else:
            assert invoice["status"] in ("issued", "partially_paid", "overdue")
            assert (invoice["status"] == "partially_paid") <= (invoice["amount_paid"] > 0)


def run_property(conn: psycopg.Connection, events: list[tuple[Any, ...]]) -> None:
    customer = insert_customer(conn)
    with db.service_session() as session:
        _apply(session, customer, events)
    check_invariants(conn, customer)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=EVENTS)
def test_no_sequence_of_money_events_loses_or_invents_money(conn: psycopg.Connection, events) -> None:
    # Given a new customer / When the events happen in this order / Then every invariant holds
    run_property(conn, events)
