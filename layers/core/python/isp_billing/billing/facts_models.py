"""What the billing run knows about a customer (facts, read set-based per chunk) and what it produces
(drafts).

Plain frozen dataclasses: the rules in `billing/rules.py` are pure functions from facts to a
draft, so they are tested without a database, and the run and the preview share them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class SuspensionFacts:
    id: UUID
    start: date  # first paused day (SAST date of suspended_at)
    end: date | None  # reactivation day R (not paused), None while open
    pauses_billing: bool


@dataclass(frozen=True)
class PriceChangeFacts:
    id: UUID  # the price_change audit row
    effective_date: date
    old_price: Decimal
    new_price: Decimal


@dataclass(frozen=True)
class BilledLineFacts:
    """The charge line already invoiced for a service for one period (recurring or pro-rata)."""

    kind: str
    start: date
    end: date
    monthly_price: Decimal
    days_in_period: int | None = None  # the pro-rata basis it was priced with (its source's)


@dataclass(frozen=True)
class UsagePeriodFacts:
    """A service's usage over one billing period (manual rows replacing synced ones), in MB."""

    start: date
    end: date
    upload_mb: Decimal
    download_mb: Decimal
    total_mb: Decimal


@dataclass(frozen=True)
class AssessedUsageFacts:
    """The period before the previous one, as the invoice for the previous period assessed it (the cap and
    price it used), its usage now, and the overage lines already billed for it."""

    usage: UsagePeriodFacts
    data_cap_gb: int | None
    price_per_gb: Decimal | None
    billed: Decimal


@dataclass(frozen=True)
class ServiceUsageFacts:
    data_cap_gb: int | None  # the package's, now
    price_per_gb: Decimal | None  # out-of-bundle, VAT-inclusive; None: no overage
    previous: UsagePeriodFacts  # the previous period Q
    before: AssessedUsageFacts | None = None  # the period before Q, when Q's invoice assessed it


@dataclass(frozen=True)
class ServiceFacts:
    id: UUID
    name: str
    status: str
    monthly_price: Decimal | None
    activation_date: date | None
    cancellation_effective_date: date | None
    suspensions: tuple[SuspensionFacts, ...] = ()
    price_changes: tuple[PriceChangeFacts, ...] = ()
    # the charge line of the previous period, when that period was invoiced for this service
    previous_line: BilledLineFacts | None = None
    # None: not live in the previous period, or uncapped with no usage recorded and nothing to settle
    usage: ServiceUsageFacts | None = None
    # the SAST day the activation was recorded (a backdated activation reaches periods invoiced before it)
    activation_recorded_on: date | None = None


@dataclass(frozen=True)
class ChargeFacts:
    id: UUID
    kind: str  # installation, equipment, adjustment
    description: str
    amount: Decimal
    due_date: date


@dataclass(frozen=True)
class CustomerFacts:
    customer_id: UUID
    billing_day: int | None  # None: the customer has no customer_billing row
    payment_terms_days: int
    credit_balance: Decimal
    services: tuple[ServiceFacts, ...] = ()
    charges: tuple[ChargeFacts, ...] = ()
    given_keys: frozenset[str] = frozenset()  # line keys already on an invoice (a credit is given once)
    # the recorded billing periods (billing_cycles): the last one billed before this invoice's (None: none
    # recorded, the period before by the billing day), and this invoice's own end when it is a recorded
    # bridging period after a billing-day change (None: the billing day's period)
    previous_period: tuple[date, date] | None = None
    period_end: date | None = None
    previous_period_days: int | None = None  # the recorded previous period's pro-rata basis
    # the periods recorded since a backdated activation's date (start, end, basis); read only then
    recorded_periods: tuple[tuple[date, date, int], ...] = ()


@dataclass(frozen=True)
class LineDraft:
    kind: str
    description: str
    amount: Decimal
    line_key: str
    source: dict[str, Any]
    service_id: UUID | None = None
    period_start: date | None = None
    period_end: date | None = None
    charge_id: UUID | None = None


@dataclass(frozen=True)
class InvoiceDraft:
    customer_id: UUID
    invoice_date: date
    due_date: date
    period_start: date
    period_end: date
    vat_rate: Decimal
    subtotal: Decimal
    vat_amount: Decimal
    total_amount: Decimal
    lines: tuple[LineDraft, ...]
    credit_applied: Decimal  # money on account the run allocates to it after tax (not a line)
    credit_added: Decimal  # a credit note's total: credits beyond the charges, to credit on account
    kind: str = "recurring"  # "credit_note" when the credits for earlier supplies exceed the new charges
    credit_note_for: UUID | None = None  # a credit note: the earlier invoice it corrects (set by the run)
    charge_ids: tuple[UUID, ...] = ()
    # the previous period's usage per service, as the invoice shows it (customer_invoices.usage_totals)
    usage_totals: dict[str, dict[str, Any]] | None = None
    days_in_period: int | None = None  # the period's pro-rata basis (recorded with its billing cycle)


@dataclass(frozen=True)
class CustomerProblem:
    """Inconsistent data: one validation_errors row (source billing_run), the customer is skipped."""

    customer_id: UUID
    error_code: str
    message: str
    suggested_fix: str
    record_id: UUID | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # more of the payload (e.g. the periods named)


@dataclass
class ChunkResult:
    invoices: list[InvoiceDraft] = field(default_factory=list)
    problems: list[CustomerProblem] = field(default_factory=list)
    # skipped cycles: customer, start, end, pro-rata basis
    nothing_to_bill: list[tuple[UUID, date, date, int]] = field(default_factory=list)
