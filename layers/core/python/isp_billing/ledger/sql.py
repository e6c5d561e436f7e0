"""The ledger's SQL: rows appended (never changed), then ledger_refresh derives the invoices' figures and the
credit balances from them. Every posting locks the customers' billing rows first (in id order), so two
postings for one customer queue and the second sees the first's rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing.db import Connection

ZERO = Decimal("0.00")


def lock_accounts(conn: Connection, customer_ids: Iterable[UUID]) -> None:
    ids = sorted({str(c) for c in customer_ids})
    if ids:
        conn.execute(
            "select customer_id from customer_billing where customer_id = any(%s::uuid[])"
            " order by customer_id for no key update",
            (ids,),
        ).fetchall()


def refresh(conn: Connection, invoice_ids: Iterable[UUID], customer_ids: Iterable[UUID], today: date) -> None:
    """The invoices' figures and status and the customers' credit balances, from the ledger."""
    conn.execute(
        "select public.ledger_refresh(%s::uuid[], %s::uuid[], %s)",
        (sorted({str(i) for i in invoice_ids}), sorted({str(c) for c in customer_ids}), today),
    )


def insert_receipts(conn: Connection, receipts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Receipts (transaction_id, customer_id, invoice_id, amount, entry_date), one per transaction (a
    unique index): a receipt already there is not written again and not returned."""
    if not receipts:
        return []
    return conn.execute(
        """
        insert into ledger_entries (customer_id, kind, amount, transaction_id, invoice_id, entry_date, note)
        select r.customer_id, 'receipt', r.amount, r.transaction_id, r.invoice_id, r.entry_date,
               case when i.total_amount - coalesce(f.paid, 0) - coalesce(f.credited, 0) <= 0
                    then 'settled_invoice' end
          from unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::numeric[], %s::date[])
               as r (transaction_id, customer_id, invoice_id, amount, entry_date)
          left join customer_invoices i on i.id = r.invoice_id
          left join ledger_invoice_figures(%s::uuid[]) f on f.invoice_id = r.invoice_id
        on conflict (transaction_id) where kind = 'receipt' do nothing
        returning id, transaction_id, customer_id, invoice_id, amount, note
        """,
        (
            [r["transaction_id"] for r in receipts],
            [r["customer_id"] for r in receipts],
            [r["invoice_id"] for r in receipts],
            [r["amount"] for r in receipts],
            [r["entry_date"] for r in receipts],
            [r["invoice_id"] for r in receipts if r["invoice_id"] is not None],
        ),
    ).fetchall()


def allocate_sources_to_own_invoices(
    conn: Connection, source_ids: Sequence[UUID], via: str
) -> list[dict[str, Any]]:
    """Each source (a receipt) allocated to the invoice it names, at most what that invoice still has open
    (total - paid - credited, several sources on one invoice in order); returns (source id, invoice id,
    allocated) for the allocations made."""
    if not source_ids:
        return []
    return conn.execute(
        """
        with s as (
          select e.id, e.customer_id, e.invoice_id, e.amount, e.created_at
            from ledger_entries e where e.id = any(%(ids)s::uuid[]) and e.invoice_id is not null
        ), open as (
          select s.*, greatest(i.total_amount - coalesce(f.paid, 0) - coalesce(f.credited, 0), 0) as open,
                 sum(s.amount) over (partition by s.invoice_id order by s.created_at, s.id) as running
            from s
            join customer_invoices i on i.id = s.invoice_id and i.kind <> 'credit_note'
                 and i.status not in ('draft', 'void')
            left join ledger_invoice_figures(array(select invoice_id from s)) f on f.invoice_id = s.invoice_id
        ), take as (
          select o.*, least(o.amount, greatest(o.open - (o.running - o.amount), 0)) as take from open o
        )
        insert into ledger_entries (customer_id, kind, amount, source_id, invoice_id, via)
        select customer_id, 'allocation', take, id, invoice_id, %(via)s from take where take > 0
        returning source_id, invoice_id, amount
        """,
        {"ids": [str(i) for i in source_ids], "via": via},
    ).fetchall()


def reverse_write_offs(conn: Connection, paid: dict[UUID, Decimal]) -> dict[UUID, Decimal]:
    """A payment landing on a written-off invoice reverses the write-off as far as it pays: per invoice, a
    negative write_off of min(written off, paid now). Returns what was reversed per invoice."""
    if not paid:
        return {}
    rows = conn.execute(
        """
        insert into ledger_entries (customer_id, kind, amount, invoice_id, note)
        select i.customer_id, 'write_off', -least(f.written_off, p.paid), i.id, 'reversed by a payment'
          from unnest(%s::uuid[], %s::numeric[]) as p (invoice_id, paid)
          join customer_invoices i on i.id = p.invoice_id
          join ledger_invoice_figures(%s::uuid[]) f on f.invoice_id = p.invoice_id
         where f.written_off > 0
        returning invoice_id, -amount as reversed
        """,
        ([str(k) for k in paid], list(paid.values()), [str(k) for k in paid]),
    ).fetchall()
    return {row["invoice_id"]: row["reversed"] for row in rows}


def receipt_of(conn: Connection, transaction_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "select * from ledger_source_balances(array(select customer_id from ledger_entries"
        " where transaction_id = %(t)s and kind = 'receipt'))"
        " where transaction_id = %(t)s and kind = 'receipt'",
        {"t": transaction_id},
    ).fetchone()


def give_back_source(conn: Connection, source_id: UUID) -> dict[UUID, Decimal]:
    """Every allocation the source still has on an invoice, given back to it (one negative allocation per
    invoice). Returns what was given back per invoice."""
    rows = conn.execute(
        """
        insert into ledger_entries (customer_id, kind, amount, source_id, invoice_id, via, note)
        select a.customer_id, 'allocation', -sum(a.amount), a.source_id, a.invoice_id, min(a.via),
               'given back'
          from ledger_entries a
         where a.kind = 'allocation' and a.source_id = %s
         group by a.customer_id, a.source_id, a.invoice_id
        having sum(a.amount) > 0
        returning invoice_id, -amount as given_back
        """,
        (source_id,),
    ).fetchall()
    return {row["invoice_id"]: row["given_back"] for row in rows}


def insert_use(
    conn: Connection,
    *,
    kind: str,
    source: dict[str, Any],
    amount: Decimal,
    transaction_id: UUID | None,
    note: str,
) -> None:
    conn.execute(
        "insert into ledger_entries (customer_id, kind, amount, source_id, transaction_id, note)"
        " values (%s, %s, %s, %s, %s, %s)",
        (source["customer_id"], kind, amount, source["id"], transaction_id, note),
    )


def available(conn: Connection, source_id: UUID) -> Decimal:
    row = conn.execute(
        "select s.amount - coalesce((select sum(u.amount) from ledger_entries u where u.source_id = s.id), 0)"
        " as available from ledger_entries s where s.id = %s",
        (source_id,),
    ).fetchone()
    return ZERO if row is None else Decimal(row["available"])


def charge_again(conn: Connection, customer_id: UUID, amount: Decimal, today: date) -> None:
    """Money spent (before the ledger, as an account credit line) from a payment since undone: owed again, a
    pending adjustment due today that the next invoice carries (issued invoices are never edited)."""
    conn.execute(
        "insert into customer_charges (customer_id, kind, description, amount, due_date)"
        " values (%s, 'adjustment', 'Payment reversed: its credit was already used on an invoice', %s, %s)",
        (customer_id, amount, today),
    )


def insert_credit_note_source(
    conn: Connection, *, customer_id: UUID, credit_note_id: UUID, invoice_id: UUID | None, amount: Decimal
) -> UUID:
    row = conn.execute(
        "insert into ledger_entries (customer_id, kind, amount, credit_note_id, invoice_id)"
        " values (%s, 'credit_note', %s, %s, %s) returning id",
        (customer_id, amount, credit_note_id, invoice_id),
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def give_back_beyond(conn: Connection, invoice_id: UUID) -> Decimal:
    """What is allocated to the invoice from sources other than its own credit notes beyond what it now
    owes (its total less its credit notes), given back to those sources, the newest allocation first.
    Returns the amount given back."""
    row = conn.execute(
        """
        with inv as (
          select i.id, i.customer_id, greatest(i.total_amount - coalesce(n.noted, 0), 0) as chargeable
            from customer_invoices i
            left join (select invoice_id, sum(amount) as noted from ledger_entries
                        where kind = 'credit_note' group by invoice_id) n on n.invoice_id = i.id
           where i.id = %(invoice)s
        ), per_source as (
          select a.source_id, sum(a.amount) as net, max(a.created_at) as last_at, min(a.via) as via
            from ledger_entries a
            join ledger_entries s on s.id = a.source_id
           where a.kind = 'allocation' and a.invoice_id = %(invoice)s
             and not (s.kind = 'credit_note' and s.invoice_id = %(invoice)s)
           group by a.source_id having sum(a.amount) > 0
        ), ordered as (
          select p.*, sum(p.net) over (order by p.last_at desc, p.source_id) as running,
                 greatest((select sum(net) from per_source) - (select chargeable from inv), 0) as excess
            from per_source p
        ), back as (
          insert into ledger_entries (customer_id, kind, amount, source_id, invoice_id, via, note)
          select (select customer_id from inv), 'allocation', -least(o.net, o.excess - (o.running - o.net)),
                 o.source_id, %(invoice)s, o.via, 'given back: credited'
            from ordered o where o.running - o.net < o.excess
          returning -amount as given
        )
        select coalesce(sum(given), 0) as given from back
        """,
        {"invoice": invoice_id},
    ).fetchone()
    return ZERO if row is None else Decimal(row["given"])


def allocate_source(
    conn: Connection, *, source_id: UUID, invoice_id: UUID, amount: Decimal, via: str
) -> Decimal:
    """Up to `amount` of the source to the invoice, at most what it has open; returns what was allocated."""
    row = conn.execute(
        """
        with x as (
          select i.customer_id,
                 least(%(amount)s, s.available,
                       greatest(i.total_amount - coalesce(f.paid, 0) - coalesce(f.credited, 0), 0)) as take
            from customer_invoices i
            join ledger_source_balances(array[i.customer_id]) s on s.id = %(source)s
            left join ledger_invoice_figures(array[%(invoice)s::uuid]) f on f.invoice_id = i.id
           where i.id = %(invoice)s
        ), ins as (
          insert into ledger_entries (customer_id, kind, amount, source_id, invoice_id, via)
          select customer_id, 'allocation', take, %(source)s, %(invoice)s, %(via)s from x where take > 0
          returning amount
        )
        select coalesce((select amount from ins), 0) as taken
        """,
        {"amount": amount, "source": source_id, "invoice": invoice_id, "via": via},
    ).fetchone()
    return ZERO if row is None else Decimal(row["taken"])


def allocate_account_credit(conn: Connection, invoice_ids: Sequence[UUID]) -> dict[UUID, Decimal]:
    """Money on account applied to each invoice (each of a different customer), its oldest sources first,
    up to what the invoice has open. Returns what was applied per invoice."""
    if not invoice_ids:
        return {}
    rows = conn.execute(
        """
        with inv as (
          select i.id, i.customer_id,
                 greatest(i.total_amount - coalesce(f.paid, 0) - coalesce(f.credited, 0)
                          - coalesce(f.written_off, 0), 0) as open
            from customer_invoices i
            left join ledger_invoice_figures(%(ids)s::uuid[]) f on f.invoice_id = i.id
           where i.id = any(%(ids)s::uuid[]) and i.kind <> 'credit_note' and i.status not in ('draft', 'void')
        ), src as (
          select inv.id as invoice_id, inv.customer_id, inv.open, s.id as source_id, s.available,
                 sum(s.available) over (partition by inv.id order by s.created_at, s.id) as running
            from inv
            join ledger_source_balances(array(select customer_id from inv)) s
              on s.customer_id = inv.customer_id and s.available > 0
           where inv.open > 0
        ), ins as (
          insert into ledger_entries (customer_id, kind, amount, source_id, invoice_id, via)
          select customer_id, 'allocation', least(available, open - (running - available)), source_id,
                 invoice_id, 'account_credit'
            from src where running - available < open
          returning invoice_id, amount
        )
        select invoice_id, sum(amount) as applied from ins group by invoice_id
        """,
        {"ids": [str(i) for i in invoice_ids]},
    ).fetchall()
    return {row["invoice_id"]: Decimal(row["applied"]) for row in rows}


def insert_write_off(conn: Connection, customer_id: UUID, invoice_id: UUID, amount: Decimal) -> None:
    conn.execute(
        "insert into ledger_entries (customer_id, kind, amount, invoice_id) values (%s, 'write_off', %s, %s)",
        (customer_id, amount, invoice_id),
    )
