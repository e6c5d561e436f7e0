"""What a posting answers: how a payment or a credit note was spread over the invoice and the account."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID


@dataclass(frozen=True)
class Receipt:
    """A payment received: `applied` to its invoice, `to_credit` left on account (the invoice owed less, or
    nothing: `settled_invoice`), `write_off_reversed` of a written-off invoice's write-off undone."""

    transaction_id: UUID
    customer_id: UUID
    invoice_id: UUID | None
    amount: Decimal
    applied: Decimal
    to_credit: Decimal
    write_off_reversed: Decimal
    settled_invoice: bool


@dataclass(frozen=True)
class CreditPosting:
    """A credit note on an invoice: `applied` of it settles the invoice, `given_back` of what was allocated
    to the invoice beyond what it now owes went back to the account; `to_credit` is how much the customer's
    credit balance grew (given_back + the note's unallocated rest)."""

    applied: Decimal
    given_back: Decimal
    to_credit: Decimal


@dataclass(frozen=True)
class ReversalPosting:
    """A payment undone: `from_invoices` its allocations given back (per invoice id), `from_credit` what it
    still had on account, `owed_again` what was spent before the ledger and is charged again."""

    from_invoices: dict[UUID, Decimal]
    from_credit: Decimal
    owed_again: Decimal
