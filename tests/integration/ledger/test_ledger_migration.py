"""Existing money moved into the ledger (ledger_migrate_existing, which the migration runs once): on a
realistic book written the way the code before the ledger wrote it (amount_paid, amount_credited,
amount_written_off, statuses and credit_balance set directly), the figures the ledger derives equal the
stored ones for every invoice that is not one of the known defects, and every credit balance is kept."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from tests.factories import insert_customer
from tests.invoice_helpers import insert_invoice, line

FIGURES = ("amount_paid", "amount_credited", "amount_due", "status")


def _payment(
    conn: psycopg.Connection,
    invoice: dict[str, Any],
    amount: str,
    *,
    kind: str = "collection",
    provider: str = "netcash",
    status: str = "successful",
) -> str:
    row = conn.execute(
        """
        insert into payment_transactions (customer_id, invoice_id, amount, kind, status, provider,
                                          action_date, processed_at)
        values (%s, %s, %s, %s, %s, %s, '2026-03-02', '2026-03-02 10:00+02') returning id
        """,
        (invoice["customer_id"], invoice["id"], amount, kind, status, provider),
    ).fetchone()
    assert row is not None
    return str(row["id"])


def _legacy(conn: psycopg.Connection, invoice: dict[str, Any], **figures: Any) -> None:
    """The invoice's figures as the code before the ledger left them (written directly)."""
    assignments = ", ".join(f"{column} = %({column})s" for column in figures)
    conn.execute(
        f"update customer_invoices set {assignments} where id = %(id)s", {**figures, "id": invoice["id"]}
    )


def _credit_note(conn: psycopg.Connection, invoice: dict[str, Any], amount: str) -> dict[str, Any]:
    return insert_invoice(
        conn,
        invoice["customer_id"],
        kind="credit_note",
        credit_note_for=invoice["id"],
        lines=[line(f"-{amount}", kind="credit", description="Credit")],
    )


def _balance(conn: psycopg.Connection, customer: str, amount: str) -> None:
    conn.execute("update customer_billing set credit_balance = %s where customer_id = %s", (amount, customer))


def _book(conn: psycopg.Connection) -> tuple[list[str], set[str]]:
    """Customers with every way money sat on an account before the ledger; returns (customers, the ids of the
    invoices that are known defects)."""
    customers: list[str] = []
    defects: set[str] = set()

    # 1. Unpaid, overdue, draft and void invoices; an R0.00 invoice left `issued` (a known defect).
    a = insert_customer(conn)
    customers.append(a)
    insert_invoice(conn, a)
    overdue = insert_invoice(conn, a, invoice_date="2026-01-05")
    _legacy(conn, overdue, status="overdue")
    insert_invoice(conn, a, status="draft")
    zero = insert_invoice(conn, a, lines=[line("0.00")])
    defects.add(zero["id"])

    # 2. Paid by debit order; part-paid by EFT then by cash; overpaid by EFT (R51 to credit).
    b = insert_customer(conn)
    customers.append(b)
    paid = insert_invoice(conn, b)
    _payment(conn, paid, "699.00")
    _legacy(conn, paid, amount_paid=Decimal("699.00"), status="paid", paid_at="2026-03-02 10:00+02")
    part = insert_invoice(conn, b)
    _payment(conn, part, "200.00", kind="payment", provider="eft")
    _payment(conn, part, "100.00", kind="payment", provider="manual")
    _legacy(conn, part, amount_paid=Decimal("300.00"), status="partially_paid")
    over = insert_invoice(conn, b)
    _payment(conn, over, "750.00", kind="payment", provider="eft")
    _legacy(conn, over, amount_paid=Decimal("699.00"), status="paid", paid_at="2026-03-02 10:00+02")
    _balance(conn, b, "51.00")

    # 3. Credit notes: R100 on an unpaid invoice; R200 on a paid one (to credit); full on an unpaid one.
    c = insert_customer(conn)
    customers.append(c)
    unpaid = insert_invoice(conn, c)
    _credit_note(conn, unpaid, "100.00")
    _legacy(conn, unpaid, amount_credited=Decimal("100.00"))
    paid_c = insert_invoice(conn, c)
    _payment(conn, paid_c, "699.00")
    _legacy(conn, paid_c, amount_paid=Decimal("699.00"), status="paid", paid_at="2026-03-02 10:00+02")
    _credit_note(conn, paid_c, "200.00")
    full = insert_invoice(conn, c)
    _credit_note(conn, full, "699.00")
    _legacy(conn, full, amount_credited=Decimal("699.00"), status="paid", paid_at="2026-03-03 10:00+02")
    _balance(conn, c, "200.00")

    # 4. A write-off after a part payment; a reversed payment (the invoice back to issued); a failed debit.
    d = insert_customer(conn)
    customers.append(d)
    written = insert_invoice(conn, d)
    _payment(conn, written, "199.00")
    _legacy(
        conn,
        written,
        amount_paid=Decimal("199.00"),
        status="written_off",
        amount_written_off=Decimal("500.00"),
    )
    bounced = insert_invoice(conn, d)
    original = _payment(conn, bounced, "699.00", status="reversed")
    conn.execute(
        "insert into payment_transactions (customer_id, invoice_id, original_transaction_id, amount, kind,"
        " status, provider) values (%s, %s, %s, 699.00, 'reversal', 'successful', 'netcash')",
        (d, bounced["id"], original),
    )
    failed = insert_invoice(conn, d)
    _payment(conn, failed, "699.00", status="failed")

    # 5. Credit spent as an "Account credit applied" line (R100 of an R150 overpayment), and credit held with
    #    no payment behind it (set by hand, as the demo does).
    e = insert_customer(conn)
    customers.append(e)
    first = insert_invoice(conn, e)
    _payment(conn, first, "849.00", kind="payment", provider="eft")
    _legacy(conn, first, amount_paid=Decimal("699.00"), status="paid", paid_at="2026-03-02 10:00+02")
    insert_invoice(
        conn,
        e,
        lines=[
            line("699.00"),
            line("-100.00", kind="credit", description="Account credit applied"),
        ],
    )
    _balance(conn, e, "50.00")
    f = insert_customer(conn)
    customers.append(f)
    _balance(conn, f, "100.00")
    return customers, defects


def _figures(conn: psycopg.Connection, customers: list[str]) -> tuple[dict[str, tuple], dict[str, Decimal]]:
    invoices = conn.execute(
        f"select id, {', '.join(FIGURES)}, coalesce(amount_written_off, 0) as written_off"
        " from customer_invoices where customer_id = any(%s::uuid[])",
        (customers,),
    ).fetchall()
    balances = conn.execute(
        "select customer_id, credit_balance from customer_billing where customer_id = any(%s::uuid[])",
        (customers,),
    ).fetchall()
    return (
        {str(r["id"]): tuple(r[c] for c in (*FIGURES, "written_off")) for r in invoices},
        {str(r["customer_id"]): r["credit_balance"] for r in balances},
    )


def test_the_ledger_derives_the_same_figures_as_the_book_had_for_every_invoice_but_the_known_defects(conn):
    # Given a book written the way it was before the ledger
    customers, defects = _book(conn)
    before_invoices, before_balances = _figures(conn, customers)
    # When its money is moved into the ledger and every figure is derived from the ledger again
    migrated = conn.execute("select public.ledger_migrate_existing() as n").fetchone()["n"]
    invoice_ids = list(before_invoices)
    conn.execute(
        "select public.ledger_refresh(%s::uuid[], %s::uuid[], %s)",
        (invoice_ids, customers, date(2026, 3, 10)),
    )
    after_invoices, after_balances = _figures(conn, customers)
    # Then the money was moved, every credit balance is kept, and every invoice's paid, credited,
    # written-off and due amounts and its status are what they were, but the R0.00 invoice left `issued`
    assert migrated > 0
    assert after_balances == before_balances
    changed = {i for i in invoice_ids if before_invoices[i] != after_invoices[i]}
    assert changed == defects
    [zero] = defects
    assert after_invoices[zero][FIGURES.index("status")] == "paid"
    # And the ledger holds the money as rows: money in = allocated + on account + used before the ledger
    totals = conn.execute(
        """
        select coalesce(sum(amount) filter (where kind in ('receipt', 'credit_note', 'opening_balance')), 0)
                 as money_in,
               coalesce(sum(amount) filter (where kind = 'allocation'), 0) as allocated,
               coalesce(sum(amount) filter (where kind in ('receipt_reversal', 'legacy_use', 'refund')), 0)
                 as taken
          from ledger_entries where customer_id = any(%s::uuid[])
        """,
        (customers,),
    ).fetchone()
    assert totals["money_in"] == totals["allocated"] + totals["taken"] + sum(after_balances.values())
    # And running it again moves nothing twice
    assert conn.execute("select public.ledger_migrate_existing() as n").fetchone()["n"] == 0
