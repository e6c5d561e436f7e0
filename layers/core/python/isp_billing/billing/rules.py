"""The billing rules (domain.md, issue 11): the lines of one customer's recurring invoice for one period.

Pure functions from `CustomerFacts` to an `InvoiceDraft`; the run and the preview both call `bill_customer`.
P is the period being invoiced (billed in advance, on its first day), Q the period before it. Lines:

- recurring: a billable service for P at the price in force on P's first day; a cancelled service only up to
  its effective date (pro-rata when that falls inside P); nothing while a billing-pausing suspension is open.
- missed periods: a backdated activation (recorded on or after Q's first day, dated before it) bills every
  period from the activation date up to Q, each its own line: the first pro-rata, a whole one in full.
- pro_rata catch-up: a service that started (activation) or restarted (reactivation of a paused service)
  inside Q and was not invoiced for Q: its billable days of Q (paused days excluded), priced per segment
  when the price changed inside Q. Domain.md's example: 699 x 15 / 31 = 338.23.
- price change: (new - old) x days(C .. end of Q's invoiced line) / days(Q), paused days excluded.
- cancellation credit: the invoiced days of Q after the effective date, at the price invoiced.
- suspension credit: the invoiced days of Q a billing-pausing suspension covered, at the price invoiced.
- once-off charges due on or before P's first day.
- out-of-bundle usage of Q above the cap, and the settlement of a later correction to the period before Q
  (billing/overage.py).
- money on account is never a line: the run allocates the credit balance to the invoice after tax (the
  ledger, oldest credit first; "Less: account credit applied"). When the credits for earlier supplies
  exceed the new charges, the document is a credit note for the excess (VAT Act s21), never a zero invoice
  with a balancing line; that excess becomes credit on account.

Every line has a `line_key` (unique in the schema, so nothing is invoiced twice) and a `source`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from isp_billing.billing import overage as billing_overage
from isp_billing.billing.facts_models import (
    ChargeFacts,
    CustomerFacts,
    CustomerProblem,
    InvoiceDraft,
    LineDraft,
    ServiceFacts,
)
from isp_billing.billing.periods import days_in_period, period_containing
from isp_billing.money import format_money, pro_rata, to_cents, vat_from_inclusive

ZERO = Decimal("0.00")
ONE_DAY = timedelta(days=1)


def _days(first: date, last: date) -> int:
    return max((last - first).days + 1, 0)


_MONTH_ABBREVIATIONS = (
    "",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def _day(value: date) -> str:
    return f"{value.day:02d} {_MONTH_ABBREVIATIONS[value.month]} {value.year}"


def _label(first: date, last: date) -> str:
    """ "05 Mar 2026 to 04 Apr 2026" (English month names whatever the locale)."""
    return f"{_day(first)} to {_day(last)}"


def is_paused(service: ServiceFacts, day: date) -> bool:
    """A billing-pausing suspension from day S, lifted on day R, pauses days S..R-1."""
    return any(
        s.pauses_billing and s.start <= day and (s.end is None or day < s.end) for s in service.suspensions
    )


def paused_days(service: ServiceFacts, first: date, last: date) -> int:
    total = 0
    for suspension in service.suspensions:
        if suspension.pauses_billing:
            end = last if suspension.end is None else min(last, suspension.end - ONE_DAY)
            total += _days(max(first, suspension.start), end)
    return total


def price_at(service: ServiceFacts, day: date) -> Decimal | None:
    """The monthly price in force on `day`: the price-change history, else the service's price."""
    changes = sorted(service.price_changes, key=lambda change: change.effective_date)
    if not changes:
        return service.monthly_price
    if day < changes[0].effective_date:
        return changes[0].old_price
    return [change for change in changes if change.effective_date <= day][-1].new_price


def _last_day(service: ServiceFacts, period_end: date) -> date:
    effective = service.cancellation_effective_date
    return period_end if effective is None else min(period_end, effective)


# --- the lines ---------------------------------------------------------------------------------------


def recurring_line(
    service: ServiceFacts, start: date, end: date, basis: int | None = None
) -> LineDraft | None:
    """P's line; `basis` the days of the billing day's period holding P when P is a shorter bridging
    period (a billing-day change), which is then billed pro-rata."""
    activation = service.activation_date
    effective = service.cancellation_effective_date
    if service.status == "pending" or activation is None or activation > start:
        return None  # activated later: the next invoice's pro-rata
    if effective is not None and effective < start:
        return None
    if is_paused(service, start):
        return None
    price = price_at(service, start)
    assert price is not None  # checked by `problems`
    period_days = basis or days_in_period(start, end)
    key = f"charge:{service.id}:{start}"
    if period_days != days_in_period(start, end) and (effective is None or effective >= end):
        return _part_period_line(
            service, price, key, start, end, period_days, "billing day changed", {"rule": "bridging_period"}
        )
    if effective is not None and effective < end:
        return _part_period_line(
            service,
            price,
            key,
            start,
            effective,
            period_days,
            "final period",
            {"rule": "final_period_pro_rata", "cancellation_effective_date": str(effective)},
        )
    return LineDraft(
        kind="recurring",
        description=f"{service.name}, {_label(start, end)}",
        amount=to_cents(price),
        line_key=key,
        service_id=service.id,
        period_start=start,
        period_end=end,
        source={"rule": "recurring", "monthly_price": format_money(price), "days_in_period": period_days},
    )


def is_backdated(service: ServiceFacts, q_start: date) -> bool:
    """Activated (recorded) on or after Q's first day with an activation date before it: the invoices
    of the periods it reaches were written while the service was pending, so they billed none of it."""
    activation, recorded = service.activation_date, service.activation_recorded_on
    return activation is not None and recorded is not None and activation < q_start <= recorded


def _part_period_line(
    service: ServiceFacts,
    price: Decimal,
    key: str,
    first: date,
    last: date,
    period_days: int,
    note: str,
    source: dict[str, Any],
) -> LineDraft:
    """A pro-rata line for `first`..`last` of a period of `period_days` days (a bridging or final period)."""
    days = _days(first, last)
    rule, extra = source["rule"], {k: v for k, v in source.items() if k != "rule"}
    return LineDraft(
        kind="pro_rata",
        description=f"{service.name}, {_label(first, last)} ({note})",
        amount=pro_rata(price, days, period_days),
        line_key=key,
        service_id=service.id,
        period_start=first,
        period_end=last,
        source={
            "rule": rule,
            "monthly_price": format_money(price),
            "days_used": days,
            "days_in_period": period_days,
            **extra,
        },
    )


def catch_up_line(
    service: ServiceFacts, q_start: date, q_end: date, basis: int | None = None
) -> LineDraft | None:
    """The previous period's billable days of a service that started or restarted inside it, not invoiced
    (`basis`: the days of the period Q is part of when it is a recorded bridging period)."""
    if service.previous_line is not None or service.activation_date is None:
        return None
    activation = service.activation_date
    if q_start <= activation <= q_end:
        first, rule = activation, "activation_pro_rata"
    else:
        restarts = [
            s.end
            for s in service.suspensions
            if s.pauses_billing and s.end is not None and s.start <= q_start <= s.end <= q_end
        ]
        if not restarts or activation > q_start or is_backdated(service, q_start):
            return None
        first, rule = restarts[0], "reactivation_pro_rata"
    return _period_line(service, q_start, q_end, first, rule, basis)


def missed_period_lines(
    service: ServiceFacts,
    q_start: date,
    q_end: date,
    billing_day: int,
    q_basis: int | None = None,
    recorded: tuple[tuple[date, date, int], ...] = (),
) -> list[LineDraft]:
    """A backdated activation: every period from the one holding the activation date up to Q, each its
    own line (the first pro-rata from the activation date, a whole one in full; paused days excluded,
    priced per segment), keyed like the period's charge line so a period already invoiced is never again
    (the run drops a line whose key is on an invoice). The periods are the recorded ones (`recorded`:
    start, end, pro-rata basis; Q with `q_basis`), the billing day's where none is recorded."""
    if not is_backdated(service, q_start) or service.previous_line is not None:
        return []
    activation = service.activation_date
    assert activation is not None
    periods: list[tuple[date, date, int]] = []
    cursor = activation
    for start, end, days in sorted(recorded):
        if end < activation or start >= q_start:
            continue
        periods.extend(_periods_between(cursor, start - ONE_DAY, billing_day))
        periods.append((start, end, days))
        cursor = end + ONE_DAY
    periods.extend(_periods_between(cursor, q_start - ONE_DAY, billing_day))
    periods.append((q_start, q_end, q_basis or days_in_period(q_start, q_end)))
    lines = []
    for start, end, days in periods:
        line = _period_line(service, start, end, max(start, activation), "missed_period", days)
        if line is not None:
            lines.append(line)
    return lines


def _periods_between(first: date, last: date, billing_day: int) -> list[tuple[date, date, int]]:
    """The billing day's periods holding first..last, the last one cut at `last` (with its full basis)."""
    periods = []
    while first <= last:
        start, end = period_containing(first, billing_day)
        periods.append((start, min(end, last), days_in_period(start, end)))
        first = end + ONE_DAY
    return periods


def _period_line(
    service: ServiceFacts, p_start: date, p_end: date, first: date, rule: str, basis: int | None = None
) -> LineDraft | None:
    """The charge line of period [p_start, p_end] for the days from `first` (to the cancellation date)."""
    last = _last_day(service, p_end)
    if last < first:
        return None
    period_days = basis or days_in_period(p_start, p_end)
    boundaries = sorted({c.effective_date for c in service.price_changes if first < c.effective_date <= last})
    starts = [first, *boundaries]
    segments = []
    amount = ZERO
    billable = 0
    for index, segment_start in enumerate(starts):
        segment_end = starts[index + 1] - ONE_DAY if index + 1 < len(starts) else last
        days = _days(segment_start, segment_end) - paused_days(service, segment_start, segment_end)
        price = price_at(service, segment_start)
        assert price is not None
        part = pro_rata(price, days, period_days)
        amount += part
        billable += days
        segments.append(
            {
                "from": str(segment_start),
                "to": str(segment_end),
                "billable_days": days,
                "monthly_price": format_money(price),
                "amount": format_money(part),
            }
        )
    if billable == 0:
        return None
    whole = rule == "missed_period" and billable == period_days and len(segments) == 1 and first == p_start
    return LineDraft(
        kind="recurring" if whole else "pro_rata",
        description=f"{service.name}, {_label(first, last)}{'' if whole else ' (pro-rata)'}",
        amount=amount,
        line_key=f"charge:{service.id}:{p_start}",
        service_id=service.id,
        period_start=first,
        period_end=last,
        source={
            "rule": rule,
            "period": {"start": str(p_start), "end": str(p_end)},
            "days_in_period": period_days,
            "segments": segments,
            "monthly_price": segments[-1]["monthly_price"],
            "formula": "round_half_up(monthly_price x billable_days / days_in_period)",
        },
    )


def price_change_lines(service: ServiceFacts, q_start: date, q_end: date) -> list[LineDraft]:
    billed = service.previous_line
    if billed is None:
        return []
    period_days = billed.days_in_period or days_in_period(q_start, q_end)
    last = _last_day(service, min(billed.end, q_end))
    lines = []
    for change in sorted(service.price_changes, key=lambda c: c.effective_date):
        effective = change.effective_date
        if not billed.start <= effective <= last or change.new_price == change.old_price:
            continue
        if effective == billed.start and billed.monthly_price == change.new_price:
            continue  # known when that period was invoiced: it was billed at the new price
        days = _days(effective, last) - paused_days(service, effective, last)
        difference = to_cents((change.new_price - change.old_price) * days / period_days)
        if days <= 0 or difference == 0:
            continue
        lines.append(
            LineDraft(
                kind="adjustment",
                description=f"{service.name}, price change ({_label(effective, last)})",
                amount=difference,
                line_key=f"price_change:{change.id}",
                service_id=service.id,
                period_start=effective,
                period_end=last,
                source={
                    "rule": "price_change_pro_rata",
                    "price_change_id": str(change.id),
                    "old_price": format_money(change.old_price),
                    "new_price": format_money(change.new_price),
                    "days": days,
                    "days_in_period": period_days,
                    "formula": "round_half_up((new - old) x days / days_in_period)",
                },
            )
        )
    return lines


def cancellation_credit(service: ServiceFacts, q_start: date, q_end: date) -> LineDraft | None:
    billed, effective = service.previous_line, service.cancellation_effective_date
    if billed is None or effective is None:
        return None
    end = min(billed.end, q_end)  # after Q's end: the billing-day change credit
    if not billed.start <= effective < end:
        return None
    period_days = billed.days_in_period or days_in_period(q_start, q_end)
    unused = _days(effective + ONE_DAY, end)
    return LineDraft(
        kind="credit",
        description=f"{service.name}, credit for {_label(effective + ONE_DAY, end)} (cancelled)",
        amount=-pro_rata(billed.monthly_price, unused, period_days),
        line_key=f"cancel_credit:{service.id}",
        service_id=service.id,
        period_start=effective + ONE_DAY,
        period_end=end,
        source={
            "rule": "cancellation_credit",
            "cancellation_effective_date": str(effective),
            "invoiced_price": format_money(billed.monthly_price),
            "unused_days": unused,
            "days_in_period": period_days,
        },
    )


def suspension_credits(service: ServiceFacts, q_start: date, q_end: date) -> list[LineDraft]:
    billed = service.previous_line
    if billed is None:
        return []
    period_days = billed.days_in_period or days_in_period(q_start, q_end)
    last = _last_day(service, min(billed.end, q_end))
    lines = []
    for suspension in service.suspensions:
        if not suspension.pauses_billing:
            continue
        first = max(billed.start, suspension.start)
        end = last if suspension.end is None else min(last, suspension.end - ONE_DAY)
        days = _days(first, end)
        if days <= 0:
            continue
        lines.append(
            LineDraft(
                kind="credit",
                description=f"{service.name}, credit for {_label(first, end)} (suspended at your request)",
                amount=-pro_rata(billed.monthly_price, days, period_days),
                line_key=f"suspension_credit:{suspension.id}:{q_start}",
                service_id=service.id,
                period_start=first,
                period_end=end,
                source={
                    "rule": "suspension_credit",
                    "suspension_id": str(suspension.id),
                    "invoiced_price": format_money(billed.monthly_price),
                    "paused_days": days,
                    "days_in_period": period_days,
                },
            )
        )
    return lines


def billing_day_credit(service: ServiceFacts, q_start: date, q_end: date) -> LineDraft | None:
    """A billing-day change ended Q before the end of the period its line billed: the days billed after
    Q's end are billed again by the periods that follow, so they are credited at the price invoiced."""
    billed = service.previous_line
    if billed is None or billed.end <= q_end:
        return None
    first = max(q_end + ONE_DAY, billed.start)
    days = _days(first, billed.end)
    period_days = billed.days_in_period or days_in_period(billed.start, billed.end)
    return LineDraft(
        kind="credit",
        description=f"{service.name}, credit for {_label(first, billed.end)} (billing day changed)",
        amount=-pro_rata(billed.monthly_price, days, period_days),
        line_key=f"billing_day_credit:{service.id}:{q_start}",
        service_id=service.id,
        period_start=first,
        period_end=billed.end,
        source={
            "rule": "billing_day_change_credit",
            "invoiced_price": format_money(billed.monthly_price),
            "days": days,
            "days_in_period": period_days,
        },
    )


def charge_lines(charges: Iterable[ChargeFacts], invoice_date: date) -> list[LineDraft]:
    return [
        LineDraft(
            kind=charge.kind,
            description=charge.description,
            amount=to_cents(charge.amount),
            line_key=f"once_off:{charge.id}",
            charge_id=charge.id,
            source={"rule": "once_off_charge", "charge_id": str(charge.id), "due_date": str(charge.due_date)},
        )
        for charge in sorted(charges, key=lambda c: (c.due_date, str(c.id)))
        if charge.due_date <= invoice_date
    ]


# --- the invoice -------------------------------------------------------------------------------------


def problems(facts: CustomerFacts) -> list[CustomerProblem]:
    """Inconsistent data the run refuses to guess about (one validation error each, customer skipped)."""
    if facts.billing_day is None:
        return [
            CustomerProblem(
                facts.customer_id,
                "missing_billing_row",
                "The customer has no customer_billing row.",
                "Create the customer's billing row (billing day, payment terms).",
            )
        ]
    if not 1 <= facts.billing_day <= 31:
        return [
            CustomerProblem(
                facts.customer_id,
                "billing_day_out_of_range",
                "The billing day is not between 1 and 31.",
                "Set billing_day to a day from 1 to 31.",
            )
        ]
    return [
        CustomerProblem(
            facts.customer_id,
            "service_without_price",
            "A billable service has no monthly price.",
            "Set the service's monthly_price.",
            service.id,
        )
        for service in facts.services
        if service.status in ("active", "suspended", "cancelled") and service.monthly_price is None
    ]


def previous_period(facts: CustomerFacts, start: date) -> tuple[date, date]:
    """Q: the recorded period that ends the day before `start`, else the billing day's period before it."""
    assert facts.billing_day is not None
    recorded = facts.previous_period
    if recorded is not None and recorded[1] == start - ONE_DAY:
        return recorded
    return period_containing(start - ONE_DAY, facts.billing_day)


def period_of(facts: CustomerFacts, start: date) -> tuple[date, date]:
    """P: the recorded bridging period starting `start`, else the billing day's period."""
    assert facts.billing_day is not None
    natural = period_containing(start, facts.billing_day)
    return (start, facts.period_end) if facts.period_end is not None else natural


def period_basis(facts: CustomerFacts, end: date) -> int:
    """The pro-rata basis of the period ending `end`: the days of the billing day's period holding it."""
    assert facts.billing_day is not None
    return days_in_period(*period_containing(end, facts.billing_day))


def invoice_lines(facts: CustomerFacts, start: date, end: date) -> list[LineDraft]:
    assert facts.billing_day is not None
    q_start, q_end = previous_period(facts, start)
    basis = days_in_period(*period_containing(end, facts.billing_day))
    q_basis = (
        facts.previous_period_days
        if facts.previous_period_days is not None and (q_start, q_end) == facts.previous_period
        else days_in_period(*period_containing(q_end, facts.billing_day))
    )
    lines: list[LineDraft] = []
    for service in sorted(facts.services, key=lambda s: str(s.id)):
        candidates = [
            *missed_period_lines(service, q_start, q_end, facts.billing_day, q_basis, facts.recorded_periods),
            catch_up_line(service, q_start, q_end, q_basis),
            *price_change_lines(service, q_start, q_end),
            cancellation_credit(service, q_start, q_end),
            *suspension_credits(service, q_start, q_end),
            billing_day_credit(service, q_start, q_end),
            recurring_line(service, start, end, basis),
            *billing_overage.overage_lines(service, start),
        ]
        lines.extend(line for line in candidates if line is not None)
    lines.extend(charge_lines(facts.charges, start))
    return [line for line in lines if line.line_key not in facts.given_keys]


def totals(amounts: Iterable[Decimal], vat_rate: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(subtotal, vat, total): VAT extracted once from the inclusive total, so subtotal + vat = total."""
    total = to_cents(sum(amounts, ZERO))
    vat = vat_from_inclusive(total, vat_rate)
    return total - vat, vat, total


def bill_customer(
    facts: CustomerFacts, start: date, vat_rate: Decimal, customer_lines: list[LineDraft] | None = None
) -> InvoiceDraft | None:
    """The recurring invoice for the period starting `start`, or None when there is nothing to bill."""
    assert facts.billing_day is not None
    period_start, end = period_of(facts, start)
    assert period_start == start, "a period starts on a billing date or is a recorded bridging period"
    lines = customer_lines if customer_lines is not None else invoice_lines(facts, start, end)
    if not lines:
        return None
    charged = to_cents(sum((line.amount for line in lines), ZERO))
    if charged == 0 and all(line.amount == 0 for line in lines):
        return None  # nothing supplied and nothing corrected: no document at all
    # Money on account is a means of payment, not a line: the run allocates it after tax (ledger), oldest
    # first; `credit_applied` is what it will allocate. Credits for earlier supplies beyond the new charges
    # make the document a credit note for the excess, which becomes credit on account.
    applied = min(facts.credit_balance, charged) if charged > 0 else ZERO
    added = -charged if charged < 0 else ZERO
    subtotal, vat, total = totals((line.amount for line in lines), vat_rate)
    return InvoiceDraft(
        customer_id=facts.customer_id,
        invoice_date=start,
        due_date=start + timedelta(days=facts.payment_terms_days),
        period_start=start,
        period_end=end,
        vat_rate=vat_rate,
        subtotal=subtotal,
        vat_amount=vat,
        total_amount=total,
        lines=tuple(lines),
        credit_applied=applied,
        credit_added=added,
        kind="credit_note" if charged < 0 else "recurring",
        charge_ids=tuple(line.charge_id for line in lines if line.charge_id is not None),
        usage_totals=billing_overage.usage_totals(facts.services),
        days_in_period=period_basis(facts, end),
    )
