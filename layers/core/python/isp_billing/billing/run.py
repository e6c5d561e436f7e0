"""The billing run (job generate-invoices): which billing dates, which customers, and one chunk's work.

- Run date: the SAST date (or the option `run_date`, never after today unless a dry run). Catch-up: every
  billing date from the day after the last completed run's `billed_through` up to the run date; one run
  bills `billing_catchup_days` days of them from the first still to bill, the next runs the rest (until
  then each customer left is a validation error and the run is partial); the first run ever bills the run
  date only.
- `plan(run)`: the work items `YYYY-MM-DD:<customer id>`; all of a customer's dates in one chunk (billed in
  date order, one transaction per date, so one period and one invoice-number year per transaction).
- `bill_chunk(run, items)`: one transaction. Lock the customers' billing rows (the per-customer mutex),
  read the facts (a fixed handful of statements), apply the rules, and write cycles, invoices, lines,
  charges, credit balances and validation errors with one statement each. A re-delivered chunk or a second
  run finds the periods invoiced and changes nothing; unique keys in the schema back this up.
- Dry run and preview: the same reads and rules, no writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
from pydantic import Field, model_validator

from isp_billing import db
from isp_billing.api_models import IsoDate
from isp_billing.billing import facts as billing_run_facts
from isp_billing.billing import rules as billing_run_rules
from isp_billing.billing import run_sql as sql
from isp_billing.billing.facts_models import ChunkResult, CustomerProblem, InvoiceDraft
from isp_billing.billing.periods import period_containing
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import Conflict
from isp_billing.ids import time_ordered_uuids
from isp_billing.invoices import issue_hooks as invoice_issue_hooks
from isp_billing.jobs import JobOptions, JobOutcome, JobRun, merge_details
from isp_billing.ledger import postings as ledger_postings
from isp_billing.observability import logger
from isp_billing.settings import get_settings

JOB_NAME = "generate-invoices"


class GenerateInvoicesOptions(JobOptions):
    """Options of a run: both optional; any other field is refused (422) before anything is written."""

    run_date: IsoDate | None = Field(
        default=None,
        description="The SAST date to bill up to (default: today); not after today unless dry_run.",
    )
    dry_run: bool = Field(default=False, description="Compute and count, write no invoice.")

    @model_validator(mode="after")
    def _not_ahead_of_today(self) -> GenerateInvoicesOptions:
        """An invoice is issued on its billing date, never before: a run date after today (SAST) would
        issue invoices early and mark the billing dates up to it as done. A dry run may look ahead."""
        if self.run_date is not None and not self.dry_run and self.run_date > sast_today():
            raise ValueError(
                f"run_date: {self.run_date} is after today ({sast_today()}, SAST);"
                " only a dry run may look ahead"
            )
        return self


# --- which dates, which customers --------------------------------------------------------------------


def billing_window(conn: Connection, run_date: date) -> tuple[date, date] | None:
    """[first, last] billing dates this run looks at, or None when a completed run already covered them.
    No date is ever dropped: it starts the day after the last completed run's `billed_through`, however
    long ago (the first run ever bills the run date only); `plan_items` caps how many days one run bills."""
    through = sql.last_completed_through(conn, JOB_NAME)
    first = run_date if through is None else through + timedelta(days=1)
    return None if first > run_date else (first, run_date)


def run_date_of(options: dict[str, Any]) -> date:
    return GenerateInvoicesOptions.of(options).run_date or sast_today()


def plan_items(
    conn: Connection, run_date: date, customer_id: UUID | None = None, chunk_size: int = 0
) -> list[list[str]]:
    """Chunks of `YYYY-MM-DD:<customer id>` items, at most the chunk size each (see `plan_work`)."""
    return plan_work(conn, run_date, customer_id, chunk_size)[0]


def plan_work(
    conn: Connection, run_date: date, customer_id: UUID | None = None, chunk_size: int = 0
) -> tuple[list[list[str]], dict[UUID, list[date]]]:
    """The chunks this run bills, and per customer the billing dates it cannot reach (deferred).

    A run bills the billing dates still to bill from the earliest one, at most `billing_catchup_days`
    days of them; the later ones are left to the next runs (each customer's periods are billed in order:
    a customer's deferred dates all come after its planned ones), and each customer left is a validation
    error that makes the run partial, so a run never ends `completed` with a billing date unbilled.

    All of one customer's billing dates of the run are in the same chunk: `bill_chunk` bills a chunk's
    dates in date order, each committed before the next is read, and a later period's rules read the
    earlier period's lines (price-change differences, cancellation and suspension credits). With SQS
    fan-out delivering chunks in any order and at once, the later period could otherwise be billed first
    and those lines lost. Customers are grouped by their set of dates (a normal night: one date, one group,
    chunks as before; a catch-up longer than a period: the customers due twice form their own chunks)."""
    window = billing_window(conn, run_date)
    if window is None:
        return [], {}
    size = chunk_size or get_settings().job_chunk_size
    dates_of: dict[UUID, list[date]] = defaultdict(list)
    deferred: dict[UUID, list[date]] = defaultdict(list)
    rows = sql.due_customers(conn, *window)  # date order, then customer
    first_due = rows[0]["billing_date"] if rows else run_date
    reach = first_due + timedelta(days=get_settings().billing_catchup_days - 1)
    for row in rows:
        if customer_id is None or row["customer_id"] == customer_id:
            if row["billing_date"] <= reach and row["customer_id"] not in deferred:
                dates_of[row["customer_id"]].append(row["billing_date"])
            else:
                deferred[row["customer_id"]].append(row["billing_date"])
    groups: dict[tuple[date, ...], list[UUID]] = defaultdict(list)
    for customer, customer_dates in dates_of.items():
        groups[tuple(customer_dates)].append(customer)
    chunks = []
    for group_dates in sorted(groups):
        customers = groups[group_dates]
        per_chunk = max(1, size // len(group_dates))
        for i in range(0, len(customers), per_chunk):
            part = customers[i : i + per_chunk]
            chunks.append([f"{day}:{customer}" for day in group_dates for customer in part])
    return chunks, dict(deferred)


DEFERRED = "deferred"


def plan(run: JobRun) -> list[list[str]]:
    """The run's chunks; the billing dates it covers go into its log row (`billed_through` is where the
    next run's catch-up starts once this one has completed)."""
    options = GenerateInvoicesOptions.of(run.options)
    run_date = options.run_date or sast_today()
    with db.service_session() as conn:
        window = billing_window(conn, run_date)
        chunks, deferred = plan_work(conn, run_date, chunk_size=run.chunk_size)
        if not options.dry_run:
            sql.resolve_problems(conn, PERIOD_NOT_REACHED)  # the deferred ones are recorded again below
        merge_details(
            conn,
            run.id,
            {
                "run_date": str(run_date),
                "billed_from": str(window[0]) if window else None,
                "billed_through": str(window[1]) if window else str(run_date),
                "dry_run": options.dry_run,
                "customers": sum(len(chunk) for chunk in chunks),
                "deferred_customers": len(deferred),
            },
        )
    # The customers this run cannot reach: a chunk of their own that records them (and fails them).
    if deferred:
        chunks.append([f"{DEFERRED}:{day}:{customer}" for customer, days in deferred.items() for day in days])
    logger.info("billing run planned", extra={"chunks": len(chunks), "run_date": str(run_date)})
    return chunks


def plan_items_for(run: JobRun) -> list[list[str]]:
    """The chunks a run would be planned into, without recording anything (tests drive chunks with it)."""
    with db.service_session() as conn:
        return plan_items(conn, run_date_of(run.options), chunk_size=run.chunk_size)


def parse_items(items: list[str]) -> dict[date, list[UUID]]:
    grouped: dict[date, list[UUID]] = defaultdict(list)
    for item in items:
        if not item.startswith(DEFERRED):
            day, customer = item.split(":", 1)
            grouped[date.fromisoformat(day)].append(UUID(customer))
    return grouped


PERIOD_NOT_REACHED = "billing_period_not_reached"


def deferred_problems(conn: Connection, items: list[str]) -> list[CustomerProblem]:
    """A validation error per customer the run could not reach, naming its periods still to bill."""
    days_of: dict[UUID, list[date]] = defaultdict(list)
    for item in items:
        if item.startswith(DEFERRED):
            _, day, customer_text = item.split(":", 2)
            days_of[UUID(customer_text)].append(date.fromisoformat(day))
    if not days_of:
        return []
    billing_days = sql.billing_days(conn, list(days_of))
    problems = []
    for customer, days in days_of.items():
        billing_day = billing_days.get(customer)
        periods = [
            {"start": str(day), "end": str(period_containing(day, billing_day)[1]) if billing_day else None}
            for day in sorted(days)
        ]
        problems.append(
            CustomerProblem(
                customer,
                PERIOD_NOT_REACHED,
                "Billing periods not billed yet: the run reached its catch-up limit before "
                + ", ".join(str(day) for day in sorted(days))
                + ". The next runs bill them in order.",
                "Nothing to fix if the next runs complete; otherwise start a run for the customer's dates.",
                extra={"periods": periods},
            )
        )
    return problems


# --- one chunk ---------------------------------------------------------------------------------------


def compute(conn: Connection, billing_date: date, customer_ids: list[UUID], *, lock: bool) -> ChunkResult:
    """The invoices (drafts) the rules give for these customers' period starting `billing_date`."""
    facts_list, _ = billing_run_facts.load(conn, billing_date, customer_ids, lock=lock)
    result = ChunkResult()
    vat_rate = sql.vat_rate_on(conn, billing_date)
    billable = []
    for facts in facts_list:
        found = billing_run_rules.problems(facts)
        if not found and facts.billing_day is not None:
            start = billing_run_rules.period_of(facts, billing_date)[0]
            recorded = facts.previous_period
            if start != billing_date or (recorded is not None and recorded[1] >= billing_date):
                # not this customer's billing date (a billing day changed since planning), or a date inside
                # a period already recorded (billed): the sequence goes on from its end, never overlaps it
                continue
        if found:
            result.problems.extend(found)
        else:
            billable.append(facts)
    if vat_rate is None:
        result.problems.extend(
            CustomerProblem(
                f.customer_id,
                "no_vat_rate",
                "No VAT rate is in force on the invoice date.",
                "Add a vat_rates row effective on or before the invoice date.",
            )
            for f in billable
        )
        return result
    candidates = {
        f.customer_id: billing_run_rules.invoice_lines(f, billing_date, _end(f, billing_date))
        for f in billable
    }
    # Charge keys were looked up with the facts (`given_keys`); only the other keys need a look now, and a
    # plain month has none, so this is usually no statement at all.
    given = billing_run_facts.existing_keys(
        conn,
        [
            line.line_key
            for lines in candidates.values()
            for line in lines
            if not line.line_key.startswith("charge:")
        ],
    )
    for facts in billable:
        lines = candidates[facts.customer_id]
        if given:
            lines = [line for line in lines if line.line_key not in given]
        invoice = billing_run_rules.bill_customer(facts, billing_date, vat_rate, lines)
        if invoice is None:
            end = _end(facts, billing_date)
            result.nothing_to_bill.append(
                (facts.customer_id, billing_date, end, billing_run_rules.period_basis(facts, end))
            )
        else:
            result.invoices.append(invoice)
    return result


def _end(facts: Any, billing_date: date) -> date:
    return billing_run_rules.period_of(facts, billing_date)[1]


def write(conn: Connection, result: ChunkResult, billing_date: date) -> dict[str, int]:
    """One statement per table for the whole chunk."""
    _name_corrected_invoices(conn, result)
    # Time-ordered ids (isp_billing.ids): the invoices', lines' and cycles' key indexes grow at their right
    # edge instead of taking a random leaf page per row.
    new_ids = iter(
        time_ordered_uuids(
            2 * len(result.invoices)
            + len(result.nothing_to_bill)
            + sum(len(inv.lines) for inv in result.invoices)
        )
    )
    invoice_ids = {inv.customer_id: next(new_ids) for inv in result.invoices}
    cycles = [
        {
            "id": next(new_ids),
            "customer_id": inv.customer_id,
            "period_start": inv.period_start,
            "period_end": inv.period_end,
            "status": "invoiced",
            "invoice_id": invoice_ids[inv.customer_id],
            "days_in_period": inv.days_in_period,
        }
        for inv in result.invoices
    ]
    cycles += [
        {
            "id": next(new_ids),
            "customer_id": customer,
            "period_start": start,
            "period_end": end,
            "status": "skipped",
            "invoice_id": None,
            "days_in_period": days,
        }
        for customer, start, end, days in result.nothing_to_bill
    ]
    cycle_ids = sql.open_cycles(conn, cycles)
    invoices = [inv for inv in result.invoices if inv.customer_id in cycle_ids]
    notes = [inv for inv in invoices if inv.kind == "credit_note"]
    invoice_numbers = iter(
        sql.reserve_invoice_numbers(conn, billing_date.year, len(invoices) - len(notes))
        if len(invoices) > len(notes)
        else []
    )
    note_numbers = iter(sql.reserve_credit_note_numbers(conn, billing_date.year, len(notes)) if notes else [])
    numbers = [next(note_numbers if inv.kind == "credit_note" else invoice_numbers) for inv in invoices]
    invoice_rows = [
        _invoice_row(invoice, invoice_ids[invoice.customer_id], number, cycle_ids[invoice.customer_id])
        for invoice, number in zip(invoices, numbers, strict=True)
    ]
    line_rows: list[dict[str, Any]] = []
    checks: list[sql.Check] = []
    # Pipeline mode: each statement is sent at once and its result collected at the end, so the server
    # inserts the invoices while the lines' JSON is built here (the client and the server work at once).
    with conn.pipeline():
        if invoice_rows:
            sql.insert_invoices(conn, invoice_rows)
            line_rows = [
                {
                    "id": next(new_ids),
                    "invoice_id": row["id"],
                    "service_id": line.service_id,
                    "kind": line.kind,
                    "description": line.description,
                    "amount": line.amount,
                    "period_start": line.period_start,
                    "period_end": line.period_end,
                    "source": line.source,
                    "line_key": line.line_key,
                }
                for row, invoice in zip(invoice_rows, invoices, strict=True)
                for line in invoice.lines
            ]
            sql.insert_lines(conn, line_rows)
            checks.append(
                sql.mark_charges_invoiced(
                    conn,
                    [
                        (charge, row["id"])
                        for row, inv in zip(invoice_rows, invoices, strict=True)
                        for charge in inv.charge_ids
                    ],
                )
            )
        _record(conn, result.problems, billing_date)
    for check in checks:  # the pipeline is synced: each write matched every row it was meant to
        check()
    # Money on account: allocated to the new invoices after tax, oldest credit first; a credit note's
    # amount becomes credit (the ledger writes the figures and the balances).
    ledger_postings.apply_account_credit(
        conn,
        [
            (UUID(str(row["id"])), inv.customer_id)
            for row, inv in zip(invoice_rows, invoices, strict=True)
            if inv.kind != "credit_note"
        ],
        billing_date,
    )
    for row, inv in zip(invoice_rows, invoices, strict=True):
        if inv.kind == "credit_note":
            ledger_postings.credit_on_account(
                conn,
                customer_id=inv.customer_id,
                credit_note_id=UUID(str(row["id"])),
                corrects=None,
                amount=-inv.total_amount,
                today=billing_date,
            )
    # The e-mails read each invoice as it now stands (amount due after the credit applied); a credit note
    # is not an invoice to pay (the "Your tax invoice" e-mail is not for it).
    issued = [row["id"] for row, inv in zip(invoice_rows, invoices, strict=True) if inv.kind != "credit_note"]
    if issued:
        invoice_issue_hooks.queue_issued_emails(conn, issued)
    return {
        "invoices": len(invoice_rows),
        "lines": len(line_rows),
        "skipped_cycles": len(cycles) - len(invoices),
    }


def _record(conn: Connection, problems: list[CustomerProblem], billing_date: date | None) -> None:
    sql.record_problems(
        conn,
        [
            {
                "customer_id": p.customer_id,
                "error_code": p.error_code,
                "message": p.message,
                "suggested_fix": p.suggested_fix,
                "payload": sql.dumps({"billing_date": billing_date, "record_id": p.record_id, **p.extra}),
            }
            for p in problems
        ],
    )


def _invoice_row(invoice: InvoiceDraft, invoice_id: str, number: str, cycle_id: UUID) -> dict[str, Any]:
    return {
        "id": invoice_id,
        "customer_id": invoice.customer_id,
        "invoice_number": number,
        "invoice_date": invoice.invoice_date,
        "due_date": invoice.due_date,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "subtotal": invoice.subtotal,
        "vat_rate": invoice.vat_rate,
        "vat_amount": invoice.vat_amount,
        "total_amount": invoice.total_amount,
        "billing_cycle_id": cycle_id,
        "usage_totals": invoice.usage_totals,  # issue 13: written with the invoice, part of the document
        "kind": invoice.kind,
        "credit_note_for": invoice.credit_note_for,
    }


CORRECTING_RULES = {"cancellation_credit", "suspension_credit", "price_change_pro_rata"}


def _name_corrected_invoices(conn: Connection, result: ChunkResult) -> None:
    """Each credit for an earlier supply (cancellation, pause, price-down) names the invoice and period it
    corrects (VAT Act s21(3)): its source gets `corrects_invoice_number`, its description says so. A credit
    note for the excess names that invoice as the one it is for (credit_note_for); one with no earlier
    invoice to name is not issued (a problem instead)."""
    wanted = [
        (n, k, line)
        for n, inv in enumerate(result.invoices)
        for k, line in enumerate(inv.lines)
        if line.amount < 0 and line.source.get("rule") in CORRECTING_RULES
    ]
    notes = [n for n, inv in enumerate(result.invoices) if inv.kind == "credit_note"]
    found = sql.corrected_invoices(
        conn,
        [
            (result.invoices[n].customer_id, line.service_id, line.period_start, line.period_end)
            for n, _, line in wanted
        ]
        + [(result.invoices[n].customer_id, None, None, None) for n in notes],
    )
    by_invoice: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    for (n, k, _), invoice in zip(wanted, found, strict=False):
        if invoice is not None:
            by_invoice[n][k] = invoice
    fallback = dict(zip(notes, found[len(wanted) :], strict=True))
    kept: list[InvoiceDraft] = []
    for n, draft in enumerate(result.invoices):
        named = by_invoice.get(n, {})
        lines = tuple(
            replace(
                line,
                description=f"{line.description}, corrects invoice {named[k]['invoice_number']}"[:500],
                source={
                    **line.source,
                    "corrects_invoice_number": named[k]["invoice_number"],
                    "corrects_invoice_id": str(named[k]["id"]),
                },
            )
            if k in named
            else line
            for k, line in enumerate(draft.lines)
        )
        corrects = next(iter(named.values()), None) or fallback.get(n)
        if draft.kind == "credit_note" and corrects is None:
            result.problems.append(
                CustomerProblem(
                    draft.customer_id,
                    "credit_without_invoice",
                    "The credits for earlier supplies exceed the new charges, but no earlier invoice exists"
                    " for a credit note to correct.",
                    "Check the service's activation, cancellation and suspension dates.",
                )
            )
            continue
        kept.append(
            replace(
                draft,
                lines=lines,
                credit_note_for=corrects["id"] if draft.kind == "credit_note" and corrects else None,
            )
        )
    result.invoices[:] = kept


# A write that found rows changed under the run (fewer rows matched than read, a check the change broke).
CONFLICTS = (Conflict, psycopg.errors.IntegrityError)


def _bill_date(
    billing_date: date, customer_ids: list[UUID], dry_run: bool
) -> tuple[ChunkResult, dict[str, int]]:
    """One transaction: these customers' invoices for the period starting `billing_date`."""
    with db.service_session() as conn:
        # Transaction-local planner settings. random_page_cost 1.1 (SSD-class storage; the default 4.0
        # models spinning disks): with 4.0, fetching a chunk's 1,000 customers among 100,000 was planned
        # as a sequential scan of customers and customer_billing, a cost growing with the book (O(N) per
        # chunk, O(N^2) per run: 43 ms of a chunk at 100k, 24 ms by index).
        conn.execute("select set_config('jit', 'off', true), set_config('random_page_cost', '1.1', true)")
        result = compute(conn, billing_date, customer_ids, lock=not dry_run)
        written = (
            {"invoices": len(result.invoices), "lines": sum(len(i.lines) for i in result.invoices)}
            if dry_run
            else write(conn, result, billing_date)
        )
    return result, written


def bill_chunk(run: JobRun, items: list[str]) -> JobOutcome:
    """Bill one chunk in one transaction (idempotent: a re-delivery finds everything invoiced)."""
    dry_run = GenerateInvoicesOptions.of(run.options).dry_run
    outcome = JobOutcome(details={"invoices": 0, "lines": 0, "total_amount": "0.00", "dry_run": dry_run})
    total = Decimal("0.00")
    deferred = [item for item in items if item.startswith(DEFERRED)]
    if deferred:
        with db.service_session() as conn:
            problems = deferred_problems(conn, deferred)
            if not dry_run:
                _record(conn, problems, None)
        outcome.failed += len(problems)
    failed: set[UUID] = set()  # a customer that failed a date is not billed for its later dates
    for billing_date, all_ids in sorted(parse_items(items).items()):
        customer_ids = [customer for customer in all_ids if customer not in failed]
        if not customer_ids:
            continue
        try:
            batches = [(customer_ids, *_bill_date(billing_date, customer_ids, dry_run))]
        except CONFLICTS as error:
            # One customer's conflict (a row changed under the run) must not fail a thousand: each customer
            # alone, so only the one still conflicting waits for the next run (the run ends partial).
            logger.warning(
                "billing chunk conflict, billing its customers one by one",
                extra={"error": type(error).__name__},
            )
            batches = []
            for customer in customer_ids:
                try:
                    batches.append(([customer], *_bill_date(billing_date, [customer], dry_run)))
                except CONFLICTS as alone:
                    logger.warning(
                        "billing conflict, customer left to the next run",
                        extra={"customer_id": str(customer), "error": type(alone).__name__},
                    )
                    failed.add(customer)
                    outcome.failed += 1
        for ids, result, written in batches:
            if not dry_run:  # issue 12: committed, so the new invoices' PDFs may be rendered now
                invoice_issue_hooks.request_pdfs_for(ids, billing_date)
            problem_customers = {p.customer_id for p in result.problems}
            outcome.processed += written["invoices"]
            outcome.failed += len(problem_customers)
            outcome.skipped += len(ids) - written["invoices"] - len(problem_customers)
            outcome.details["invoices"] += written["invoices"]
            outcome.details["lines"] += written["lines"]
            total += sum((i.total_amount for i in result.invoices), Decimal("0.00"))
    outcome.details["total_amount"] = f"{total:.2f}"
    return outcome
