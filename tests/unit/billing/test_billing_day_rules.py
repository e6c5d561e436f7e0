"""The billing-day change in the pure rules: the recorded previous period, the overlap credit, the bridging
period's pro-rata, and the next billing date of a new billing day."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from isp_billing.billing.billing_day import next_billing_date, plan_change
from isp_billing.billing.facts_models import BilledLineFacts, CustomerFacts, ServiceFacts
from isp_billing.billing.rules import bill_customer, billing_day_credit, previous_period

VAT = Decimal("15.00")
D = Decimal


def _service(**extra) -> ServiceFacts:
    values = {
        "id": uuid.uuid4(),
        "name": "Fibre 50",
        "status": "active",
        "monthly_price": D("699.00"),
        "activation_date": date(2025, 6, 1),
        "cancellation_effective_date": None,
        **extra,
    }
    return ServiceFacts(**values)


def _customer(*services: ServiceFacts, billing_day: int, **extra) -> CustomerFacts:
    return CustomerFacts(uuid.uuid4(), billing_day, 7, D("0.00"), services=services, **extra)


@pytest.mark.parametrize(
    ("after", "day", "expected"),
    [
        (date(2026, 2, 1), 5, date(2026, 2, 5)),
        (date(2026, 2, 5), 5, date(2026, 3, 5)),  # on the billing date itself: the next one
        (date(2026, 3, 4), 3, date(2026, 4, 3)),
        (date(2026, 2, 1), 30, date(2026, 2, 28)),
        (date(2028, 2, 28), 31, date(2028, 2, 29)),
        (date(2026, 12, 31), 1, date(2027, 1, 1)),
        (date(2026, 12, 31), 31, date(2027, 1, 31)),
    ],
)
def test_the_next_billing_date_of_a_new_day_is_strictly_after_the_change(after, day, expected):
    assert next_billing_date(after, day) == expected


def test_the_previous_period_is_the_recorded_one_when_it_ends_the_day_before():
    # Given day 5 now, and a recorded period 25 Jan - 4 Feb (ended early by a change from day 25)
    customer = _customer(billing_day=5, previous_period=(date(2026, 1, 25), date(2026, 2, 4)))
    # Then Q for 5 Feb is the recorded one, and for a later date the billing day's (nothing recorded next)
    assert previous_period(customer, date(2026, 2, 5)) == (date(2026, 1, 25), date(2026, 2, 4))
    assert previous_period(customer, date(2026, 3, 5)) == (date(2026, 2, 5), date(2026, 3, 4))


def test_days_billed_after_the_recorded_period_end_are_credited_at_the_invoiced_price_and_basis():
    # Given a line 25 Jan - 24 Feb at R699 over 31 days, and Q recorded as 25 Jan - 4 Feb
    billed = BilledLineFacts("recurring", date(2026, 1, 25), date(2026, 2, 24), D("699.00"), 31)
    service = _service(previous_line=billed)
    credit = billing_day_credit(service, date(2026, 1, 25), date(2026, 2, 4))
    # Then 5-24 Feb (20 days): 699 x 20 / 31 = 450.97
    assert credit is not None and credit.amount == D("-450.97") and credit.kind == "credit"
    assert (credit.period_start, credit.period_end) == (date(2026, 2, 5), date(2026, 2, 24))
    # And no credit when the line ends with Q (no change)
    assert billing_day_credit(service, date(2026, 1, 25), date(2026, 2, 24)) is None
    assert billing_day_credit(_service(), date(2026, 1, 25), date(2026, 2, 4)) is None


def test_a_recorded_bridging_period_is_billed_pro_rata_over_the_new_days_period():
    # Given day 3 and a bridging period 5 Mar - 2 Apr after 5 Feb - 4 Mar (line at R699 over 28 days)
    billed = BilledLineFacts("recurring", date(2026, 2, 5), date(2026, 3, 4), D("699.00"), 28)
    customer = _customer(
        _service(previous_line=billed),
        billing_day=3,
        previous_period=(date(2026, 2, 5), date(2026, 3, 4)),
        period_end=date(2026, 4, 2),
    )
    invoice = bill_customer(customer, date(2026, 3, 5), VAT)
    # Then one line: 699 x 29 / 31 (3 Mar - 2 Apr has 31 days) = 653.90, no credit
    assert invoice is not None and (invoice.period_start, invoice.period_end) == (
        date(2026, 3, 5),
        date(2026, 4, 2),
    )
    assert [(line.kind, line.amount, line.source["rule"]) for line in invoice.lines] == [
        ("pro_rata", D("653.90"), "bridging_period")
    ]


def test_a_cancellation_inside_a_shortened_period_is_credited_up_to_its_recorded_end_only():
    # Given a line 25 Jan - 24 Feb, Q recorded as 25 Jan - 4 Feb, cancelled with last day 31 Jan
    billed = BilledLineFacts("recurring", date(2026, 1, 25), date(2026, 2, 24), D("620.00"), 31)
    service = _service(
        previous_line=billed, status="cancelled", cancellation_effective_date=date(2026, 1, 31)
    )
    customer = _customer(service, billing_day=5, previous_period=(date(2026, 1, 25), date(2026, 2, 4)))
    invoice = bill_customer(customer, date(2026, 2, 5), VAT)
    # Then 1-4 Feb by the cancellation (620 x 4 / 31) and 5-24 Feb by the billing-day change (620 x 20 / 31):
    # every invoiced day after the last day credited once
    assert invoice is not None
    credits = sorted((line.period_start, line.amount) for line in invoice.lines if line.service_id)
    assert credits == [(date(2026, 2, 1), D("-80.00")), (date(2026, 2, 5), D("-400.00"))]


@pytest.mark.parametrize(
    ("current", "today", "new_day", "expected"),
    [
        # 25 -> 5 on 1 Feb: the invoiced 25 Jan - 24 Feb ends on 4 Feb; 5-24 Feb is the overlap
        ((date(2026, 1, 25), date(2026, 2, 24)), date(2026, 2, 1), 5, (date(2026, 2, 4), None, (5, 24))),
        # 5 -> 3 on 4 Mar (the period's last day): bridging 5 Mar - 2 Apr
        ((date(2026, 2, 5), date(2026, 3, 4)), date(2026, 3, 4), 3, (date(2026, 3, 4), (5, 2), None)),
        # 29 -> 31 on 10 Feb (common year): the next date (28 Feb) follows the period: nothing else
        ((date(2026, 1, 29), date(2026, 2, 27)), date(2026, 2, 10), 31, (date(2026, 2, 27), None, None)),
        # on the billing date itself, 5 Mar -> day 20: 20 Mar - 4 Apr is the overlap
        ((date(2026, 3, 5), date(2026, 4, 4)), date(2026, 3, 5), 20, (date(2026, 3, 19), None, (20, 4))),
    ],
)
def test_plan_change_shortens_the_period_or_records_a_bridging_one(current, today, new_day, expected):
    plan = plan_change(current, today, new_day)
    end, bridging_days, overlap_days = expected
    assert plan.current_end == end
    assert (
        None if plan.bridging_period is None else tuple(d.day for d in plan.bridging_period)
    ) == bridging_days
    assert (None if plan.overlap is None else tuple(d.day for d in plan.overlap)) == overlap_days


def test_plan_change_without_a_recorded_period_changes_only_the_day():
    plan = plan_change(None, date(2026, 2, 1), 5)
    assert (plan.next_billing_date, plan.current_end, plan.bridging_period, plan.overlap) == (
        date(2026, 2, 5),
        None,
        None,
        None,
    )
