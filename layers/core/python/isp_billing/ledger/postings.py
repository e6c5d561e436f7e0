"""The ledger's use cases: each appends its rows and then derives the figures (ledger_refresh), in the
caller's transaction. Nothing else writes an invoice's paid, credited or written-off amounts, its
payment-driven status or a credit balance.

- A payment received: a receipt, allocated to its invoice up to what is open; the rest is credit. One that
  finds its invoice settled is credit too, its receipt noted `settled_invoice`, and the customer is told.
  On a written-off invoice it reverses the write-off as far as it pays.
- A payment undone (a dispute, a bounce after a paid line, an admin's reversal): its own allocations given
  back, then what it still has on account taken; an invoice settled by a credit note stays settled.
- A credit note on an invoice: what other money is allocated to the invoice beyond what it now owes goes
  back to the account, then the note settles what it can; its rest is credit.
- A write-off; account credit applied by the billing run, oldest money first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing.db import Connection
from isp_billing.ledger import sql
from isp_billing.ledger.models import CreditPosting, Receipt, ReversalPosting
from isp_billing.money import format_money
from isp_billing.notifications import queue_sql as notifications

ZERO = Decimal("0.00")


def receive_payments(conn: Connection, payments: Sequence[dict[str, Any]], today: date) -> list[Receipt]:
    """Payments received (each: transaction_id, customer_id, invoice_id, amount, entry_date), set-based."""
    if not payments:
        return []
    sql.lock_accounts(conn, (p["customer_id"] for p in payments))
    receipts = sql.insert_receipts(conn, payments)
    allocations = sql.allocate_sources_to_own_invoices(conn, [r["id"] for r in receipts], "payment")
    applied = {row["source_id"]: Decimal(row["amount"]) for row in allocations}
    per_invoice: dict[UUID, Decimal] = {}
    for row in allocations:
        per_invoice[row["invoice_id"]] = per_invoice.get(row["invoice_id"], ZERO) + Decimal(row["amount"])
    reversed_write_offs = sql.reverse_write_offs(conn, per_invoice)
    sql.refresh(
        conn,
        [r["invoice_id"] for r in receipts if r["invoice_id"] is not None],
        [r["customer_id"] for r in receipts],
        today,
    )
    result = [
        Receipt(
            transaction_id=r["transaction_id"],
            customer_id=r["customer_id"],
            invoice_id=r["invoice_id"],
            amount=Decimal(r["amount"]),
            applied=applied.get(r["id"], ZERO),
            to_credit=Decimal(r["amount"]) - applied.get(r["id"], ZERO),
            write_off_reversed=reversed_write_offs.pop(r["invoice_id"], ZERO),
            settled_invoice=r["note"] == "settled_invoice",
        )
        for r in receipts
    ]
    _tell_settled(conn, [r for r in result if r.settled_invoice])
    return result


def _tell_settled(conn: Connection, receipts: list[Receipt]) -> None:
    if not receipts:
        return
    rows = conn.execute(
        "select id, invoice_number from customer_invoices where id = any(%s::uuid[])",
        ([str(r.invoice_id) for r in receipts],),
    ).fetchall()
    numbers = {row["id"]: row["invoice_number"] for row in rows}
    notifications.queue_many(
        conn,
        [
            notifications.NotificationRequest(
                customer_id=r.customer_id,
                kind="payment_to_credit",
                subject=f"Your payment of R{format_money(r.amount)} is held as credit on your account",
                template="payment_to_credit",
                dedupe_key=f"payment_to_credit:{r.transaction_id}",
                data={"invoice_number": numbers.get(r.invoice_id), "amount": format_money(r.amount)},
            )
            for r in receipts
        ],
    )


def reverse_receipt(
    conn: Connection,
    *,
    transaction_id: UUID,
    reversal_transaction_id: UUID | None,
    customer_id: UUID,
    today: date,
) -> ReversalPosting:
    """The payment `transaction_id` undone: its allocations given back, then its money taken off the
    account. What it no longer has on account (spent before the ledger as an account credit line) is
    charged again on the next invoice."""
    sql.lock_accounts(conn, [customer_id])
    receipt = sql.receipt_of(conn, transaction_id)
    if receipt is None:
        raise LookupError(f"no receipt for payment {transaction_id}")
    given = sql.give_back_source(conn, receipt["id"])
    on_account = sql.available(conn, receipt["id"])
    if on_account > 0:
        sql.insert_use(
            conn,
            kind="receipt_reversal",
            source=receipt,
            amount=on_account,
            transaction_id=reversal_transaction_id,
            note="payment reversed",
        )
    owed_again = Decimal(receipt["amount"]) - on_account
    if owed_again > 0:
        sql.charge_again(conn, customer_id, owed_again, today)
    sql.refresh(conn, given, [customer_id], today)
    return ReversalPosting(
        from_invoices=given, from_credit=on_account - sum(given.values(), ZERO), owed_again=owed_again
    )


def credit_invoice(
    conn: Connection,
    *,
    customer_id: UUID,
    invoice_id: UUID,
    credit_note_id: UUID,
    amount: Decimal,
    today: date,
) -> CreditPosting:
    """A credit note of `amount` on the invoice."""
    sql.lock_accounts(conn, [customer_id])
    before = credit_balance(conn, customer_id)
    source = sql.insert_credit_note_source(
        conn, customer_id=customer_id, credit_note_id=credit_note_id, invoice_id=invoice_id, amount=amount
    )
    given_back = sql.give_back_beyond(conn, invoice_id)
    applied = sql.allocate_source(
        conn, source_id=source, invoice_id=invoice_id, amount=amount, via="credit_note"
    )
    sql.refresh(conn, [invoice_id], [customer_id], today)
    return CreditPosting(
        applied=applied, given_back=given_back, to_credit=credit_balance(conn, customer_id) - before
    )


def credit_on_account(
    conn: Connection,
    *,
    customer_id: UUID,
    credit_note_id: UUID,
    corrects: UUID | None,
    amount: Decimal,
    today: date,
) -> None:
    """A credit note whose whole amount is credit on account (the billing run's note for credits for earlier
    supplies that exceed the new charges)."""
    sql.lock_accounts(conn, [customer_id])
    sql.insert_credit_note_source(
        conn, customer_id=customer_id, credit_note_id=credit_note_id, invoice_id=corrects, amount=amount
    )
    sql.refresh(conn, [], [customer_id], today)


def write_off(conn: Connection, *, customer_id: UUID, invoice_id: UUID, amount: Decimal, today: date) -> None:
    sql.lock_accounts(conn, [customer_id])
    sql.insert_write_off(conn, customer_id, invoice_id, amount)
    sql.refresh(conn, [invoice_id], [customer_id], today)


def apply_account_credit(
    conn: Connection, invoices: Sequence[tuple[UUID, UUID]], today: date
) -> dict[UUID, Decimal]:
    """Money on account applied to the invoices ((invoice id, customer id)), oldest money first; a
    customer's invoices in turn. Returns what was applied per invoice."""
    sql.lock_accounts(conn, (customer for _, customer in invoices))
    applied: dict[UUID, Decimal] = {}
    rounds: list[list[UUID]] = []
    seen: dict[UUID, int] = {}
    for invoice_id, customer_id in invoices:
        n = seen.get(customer_id, 0)
        seen[customer_id] = n + 1
        if len(rounds) <= n:
            rounds.append([])
        rounds[n].append(invoice_id)
    for batch in rounds:
        applied |= sql.allocate_account_credit(conn, batch)
    sql.refresh(conn, [i for i, _ in invoices], [c for _, c in invoices], today)
    return applied


def credit_balance(conn: Connection, customer_id: UUID) -> Decimal:
    row = conn.execute(
        "select coalesce(sum(available), 0) as balance from ledger_source_balances(array[%s::uuid])",
        (customer_id,),
    ).fetchone()
    return ZERO if row is None else Decimal(row["balance"])
