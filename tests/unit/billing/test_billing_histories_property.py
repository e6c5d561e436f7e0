"""A property of the billing rules over random histories: every day of a billable service is billed exactly
once, at the price in force that day.

Histories: an activation (backdated up to 62 days, recorded later than some billing dates), price changes
(effective from the day entered or later), billing-pausing suspensions (from the day they are entered to
the day they are lifted), a cancellation, a billing-day change (the `plan_change` rule: the period shortened
or a bridging period recorded), and runs that come late (outages: several billing dates billed at once).
An oracle built only from the domain rule (a day of period [S, E] costs the price in
force that day / days of the period) is compared with what the rules invoice, run after run, with each run
seeing only what was recorded by then (as `billing/facts.py` reads it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isp_billing.billing.billing_day import plan_change
from isp_billing.billing.facts_models import (
    BilledLineFacts,
    CustomerFacts,
    LineDraft,
    PriceChangeFacts,
    ServiceFacts,
    SuspensionFacts,
)
from isp_billing.billing.periods import days_in_period, period_containing
from isp_billing.billing.rules import bill_customer

ONE = timedelta(days=1)
VAT = Decimal("15.00")
START = date(2026, 1, 1)
HORIZON = 200  # days simulated


@dataclass
class History:
    billing_day: int
    price: Decimal
    activation: date
    activation_recorded: date
    changes: list[tuple[date, date, Decimal]]  # (recorded, effective, new price)
    suspensions: list[tuple[date, date]]  # (first paused day, day lifted)
    cancellation: tuple[date, date] | None  # (recorded, last day)
    delays: list[int] = field(default_factory=list)  # how late each billing date's run comes
    day_change: tuple[date, int] | None = None  # (entered on, new billing day)


@st.composite
def histories(draw: st.DrawFn) -> History:
    billing_day = draw(st.sampled_from([1, 5, 15, 28, 29, 30, 31]))
    price = Decimal(draw(st.integers(100, 1500))) + Decimal("0.99")
    recorded = START + timedelta(days=draw(st.integers(0, 90)))
    activation = recorded - timedelta(days=draw(st.integers(0, 62)))
    changes = []
    day = recorded
    for _ in range(draw(st.integers(0, 3))):
        day += timedelta(days=draw(st.integers(1, 45)))
        effective = max(day, changes[-1][1] if changes else day) + timedelta(days=draw(st.integers(0, 40)))
        changes.append((day, effective, Decimal(draw(st.integers(100, 1500))) + Decimal("0.49")))
    suspensions = []
    day = recorded
    for _ in range(draw(st.integers(0, 2))):
        first = day + timedelta(days=draw(st.integers(1, 40)))
        lifted = first + timedelta(days=draw(st.integers(1, 50)))
        suspensions.append((first, lifted))
        day = lifted
    cancellation = None
    if draw(st.booleans()):
        cancelled_on = recorded + timedelta(days=draw(st.integers(1, 120)))
        cancellation = (cancelled_on, cancelled_on + timedelta(days=draw(st.integers(0, 60))))
    delays = draw(st.lists(st.integers(0, 6), min_size=12, max_size=12))
    day_change = None
    if draw(st.booleans()):
        new_day = draw(st.sampled_from([d for d in (1, 3, 5, 15, 25, 28, 29, 30, 31) if d != billing_day]))
        day_change = (START + timedelta(days=draw(st.integers(20, 200))), new_day)
    return History(
        billing_day, price, activation, recorded, changes, suspensions, cancellation, delays, day_change
    )


def _price_on(history: History, day: date) -> Decimal:
    price = history.price
    for _, effective, new_price in sorted(history.changes, key=lambda c: c[1]):
        if effective <= day:
            price = new_price
    return price


def _paused(history: History, day: date) -> bool:
    return any(first <= day < lifted for first, lifted in history.suspensions)


def _billable(history: History, day: date) -> bool:
    last = history.cancellation[1] if history.cancellation else None
    return history.activation <= day and (last is None or day <= last) and not _paused(history, day)


def _facts(
    history: History, service_id: uuid.UUID, ids: dict, lines: dict, seen: date, cycles: list, day: int
) -> CustomerFacts:
    """What `billing/facts.py` would read at `seen` (the day the run comes)."""
    changes, old = [], history.price
    for recorded, effective, new_price in history.changes:
        if recorded <= seen:
            changes.append(PriceChangeFacts(ids[("change", effective, new_price)], effective, old, new_price))
            old = new_price
    current_price = old
    suspensions = tuple(
        SuspensionFacts(ids[("suspension", first)], first, lifted if lifted <= seen else None, True)
        for first, lifted in history.suspensions
        if first <= seen
    )
    cancelled = history.cancellation[1] if history.cancellation and history.cancellation[0] <= seen else None
    return CustomerFacts(
        customer_id=ids["customer"],
        billing_day=day,
        payment_terms_days=7,
        credit_balance=Decimal("0.00"),
        services=(
            ServiceFacts(
                id=service_id,
                name="Fibre",
                status="active",
                monthly_price=current_price,
                activation_date=history.activation,
                cancellation_effective_date=cancelled,
                suspensions=suspensions,
                price_changes=tuple(changes),
                previous_line=None,
                activation_recorded_on=history.activation_recorded,
            ),
        )
        if history.activation_recorded <= seen
        else (),
        given_keys=frozenset(lines),
        previous_period=cycles[-1][:2] if cycles else None,
        previous_period_days=cycles[-1][2] if cycles else None,
        recorded_periods=tuple(cycles),
    )


def _bill(history: History) -> tuple[list[LineDraft], list[tuple[date, date, int]], int]:
    """Billing date after billing date (each the day after the last recorded period), each billed on the
    day its (late) run comes; the billing-day change applied by `plan_change` when it is entered."""
    service_id = uuid.uuid4()
    ids: dict = {"customer": uuid.uuid4()}
    for _, effective, new_price in history.changes:
        ids[("change", effective, new_price)] = uuid.uuid4()
    for first, _ in history.suspensions:
        ids[("suspension", first)] = uuid.uuid4()
    lines: dict[str, LineDraft] = {}
    cycles: list[tuple[date, date, int]] = []  # the recorded periods: start, end, pro-rata basis
    day, change, bridging = history.billing_day, history.day_change, None
    first_day: int | None = None  # the billing day of the first recorded period
    run_day = START
    for delay in history.delays:
        billing_date = cycles[-1][1] + ONE if cycles else period_containing(START, day)[1] + ONE
        run_day = max(run_day, billing_date + timedelta(days=delay))  # runs come in order, late or not
        if change is not None and change[0] <= run_day and not cycles:  # before the first period: the day
            day, change = change[1], None
            billing_date = period_containing(START, day)[1] + ONE
            run_day = max(START, billing_date + timedelta(days=delay))
        if change is not None and change[0] <= run_day:
            if cycles and cycles[-1][1] >= change[0]:  # entered while its period is billed: applied
                plan = plan_change(cycles[-1][:2], change[0], change[1])
                assert plan.current_end is not None
                cycles[-1] = (cycles[-1][0], plan.current_end, cycles[-1][2])
                bridging, day, change = plan.bridging_period, change[1], None
                billing_date = cycles[-1][1] + ONE
                run_day = max(run_day, billing_date + timedelta(days=delay))
            else:  # refused while a begun period is unbilled: entered again after this run
                change = (run_day, change[1])
        period = bridging if bridging is not None else period_containing(billing_date, day)
        assert period[0] == billing_date, (period, billing_date)
        facts = _facts(history, service_id, ids, lines, run_day, cycles, day)
        if bridging is not None:
            facts = CustomerFacts(**{**facts.__dict__, "period_end": bridging[1]})
        previous = lines.get(f"charge:{service_id}:{cycles[-1][0]}") if cycles else None
        if previous is not None and facts.services:
            billed = BilledLineFacts(
                previous.kind,
                previous.period_start,
                previous.period_end,
                Decimal(previous.source["monthly_price"]),
                previous.source.get("days_in_period"),
            )
            service = ServiceFacts(**{**facts.services[0].__dict__, "previous_line": billed})
            facts = CustomerFacts(**{**facts.__dict__, "services": (service,)})
        invoice = bill_customer(facts, billing_date, VAT)
        for line in invoice.lines if invoice else ():
            assert line.line_key not in lines, line.line_key
            lines[line.line_key] = line
        cycles.append((period[0], period[1], days_in_period(*period_containing(period[1], day))))
        first_day = first_day or day
        bridging = None
    assert first_day is not None
    return list(lines.values()), cycles, first_day


def _check(history: History) -> None:
    lines, cycles, first_day = _bill(history)
    end = cycles[-1][1]
    # The recorded periods follow each other
    assert all(after[0] == before[1] + ONE for before, after in pairwise(cycles))
    # The oracle: a day of a recorded period costs the price in force that day / the period's basis
    basis = {}
    for start, last, days in cycles:
        day = start
        while day <= last:
            basis[day] = days
            day += ONE
    # Days before the first recorded period: no record says which billing day applied then, so either the
    # first period's or the day billed with (after a change) is a fair basis
    days = {first_day, history.day_change[1] if history.day_change else first_day}
    low = high = Decimal("0")
    day = history.activation
    while day <= end:
        if _billable(history, day):
            price = _price_on(history, day)
            shares = (
                [price / basis[day]]
                if day in basis
                else [price / days_in_period(*period_containing(day, d)) for d in days]
            )
            low, high = low + min(shares), high + max(shares)
        day += ONE
    service_lines = [line for line in lines if line.service_id is not None]
    billed = sum((line.amount for line in service_lines), Decimal("0"))
    tolerance = Decimal("0.01") * max(len(service_lines), 1)
    assert low - tolerance <= billed <= high + tolerance, (billed, low, high, service_lines)
    coverage: dict[date, int] = {}
    for line in service_lines:
        if line.kind == "adjustment":
            continue  # a price difference: money, not days
        sign = -1 if line.kind == "credit" else 1
        day = line.period_start
        assert day is not None and line.period_end is not None
        while day <= line.period_end:
            coverage[day] = coverage.get(day, 0) + sign
            day += ONE
    # Never billed twice; every billable day billed (a paused day inside a catch-up line's range is covered
    # by the line but not paid for: the money check holds that)
    assert all(count in (0, 1) for count in coverage.values()), coverage
    day = history.activation
    while day <= end:
        assert coverage.get(day, 0) == 1 or not _billable(history, day), (day, coverage.get(day))
        day += ONE


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_every_billable_day_is_billed_once_at_its_price(history):
    _check(history)


@pytest.mark.perf
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_every_billable_day_is_billed_once_at_its_price_many_histories(history):
    _check(history)
