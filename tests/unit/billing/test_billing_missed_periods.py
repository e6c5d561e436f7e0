"""Backdated activations in the billing rules: every period an activation date reaches is billed once."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from isp_billing.billing.facts_models import CustomerFacts, PriceChangeFacts, ServiceFacts, SuspensionFacts
from isp_billing.billing.rules import bill_customer, is_backdated, missed_period_lines

VAT = Decimal("15.00")
D = Decimal


def _service(**extra) -> ServiceFacts:
    values = {
        "id": uuid.uuid4(),
        "name": "Fibre 25",
        "status": "active",
        "monthly_price": D("500.00"),
        "activation_date": date(2026, 1, 31),
        "cancellation_effective_date": None,
        "activation_recorded_on": date(2026, 2, 3),
        **extra,
    }
    return ServiceFacts(**values)


def _customer(
    *services: ServiceFacts, billing_day: int = 1, given: frozenset[str] = frozenset()
) -> CustomerFacts:
    return CustomerFacts(uuid.uuid4(), billing_day, 7, D("0.00"), services=services, given_keys=given)


def _lines(invoice) -> list[tuple[str, Decimal, date, date, str]]:
    return [
        (line.kind, line.amount, line.period_start, line.period_end, line.source["rule"])
        for line in invoice.lines
    ]


def test_an_activation_recorded_in_february_dated_31_january_bills_31_january_and_february():
    # Given billing day 1, activated on 3 Feb with date 31 Jan (the 1 Feb invoice had it pending)
    customer = _customer(_service())
    # When the 1 March invoice is made
    invoice = bill_customer(customer, date(2026, 3, 1), VAT)
    # Then 500 x 1/31 for 31 Jan, February in full, and March
    assert invoice is not None
    assert _lines(invoice) == [
        ("pro_rata", D("16.13"), date(2026, 1, 31), date(2026, 1, 31), "missed_period"),
        ("recurring", D("500.00"), date(2026, 2, 1), date(2026, 2, 28), "missed_period"),
        ("recurring", D("500.00"), date(2026, 3, 1), date(2026, 3, 31), "recurring"),
    ]
    assert invoice.lines[0].line_key == f"charge:{customer.services[0].id}:2026-01-01"


def test_a_missed_period_already_on_an_invoice_is_not_billed_again():
    # Given the same service, with January's charge key already invoiced
    service = _service()
    customer = _customer(service, given=frozenset({f"charge:{service.id}:2026-01-01"}))
    # When the 1 March invoice is made / Then only February and March
    invoice = bill_customer(customer, date(2026, 3, 1), VAT)
    assert invoice is not None
    assert [line.period_start for line in invoice.lines] == [date(2026, 2, 1), date(2026, 3, 1)]


def test_a_normal_activation_is_not_backdated_and_a_backfilled_service_without_record_is_not_either():
    # Given an activation recorded the day it is dated, and one with no activation record at all
    same_day = _service(activation_date=date(2026, 2, 3), activation_recorded_on=date(2026, 2, 3))
    unrecorded = _service(activation_date=date(2023, 5, 1), activation_recorded_on=None)
    # Then neither reaches periods before February
    assert not is_backdated(same_day, date(2026, 2, 1))
    assert not is_backdated(unrecorded, date(2026, 2, 1))
    assert missed_period_lines(unrecorded, date(2026, 2, 1), date(2026, 2, 28), 1) == []
    # And an activation recorded on the previous period's first day, dated the day before, is backdated
    edge = _service(activation_date=date(2026, 1, 31), activation_recorded_on=date(2026, 2, 1))
    assert is_backdated(edge, date(2026, 2, 1))
    # But not when recorded before that period began (that period's own invoice billed it)
    early = _service(activation_date=date(2026, 1, 20), activation_recorded_on=date(2026, 1, 31))
    assert not is_backdated(early, date(2026, 2, 1))


def test_missed_periods_exclude_paused_days_split_at_price_changes_and_stop_at_cancellation():
    # Given billing day 1, dated 20 Dec, recorded 2 Feb; paused 1-10 Jan (lifted on the 11th), R500 -> R600
    # from 16 Jan, cancelled with last day 20 Feb
    change = PriceChangeFacts(uuid.uuid4(), date(2026, 1, 16), D("500.00"), D("600.00"))
    pause = SuspensionFacts(uuid.uuid4(), date(2026, 1, 1), date(2026, 1, 11), True)
    service = _service(
        activation_date=date(2025, 12, 20),
        activation_recorded_on=date(2026, 2, 2),
        price_changes=(change,),
        suspensions=(pause,),
        monthly_price=D("600.00"),
        status="cancelled",
        cancellation_effective_date=date(2026, 2, 20),
    )
    lines = missed_period_lines(service, date(2026, 2, 1), date(2026, 2, 28), 1)
    # Then December 20-31 (12 of 31 days at 500), January (5 days at 500, 16 at 600 of 31), 1-20 Feb at 600
    assert [(line.amount, line.period_start, line.period_end) for line in lines] == [
        (D("193.55"), date(2025, 12, 20), date(2025, 12, 31)),
        (D("80.65") + D("309.68"), date(2026, 1, 1), date(2026, 1, 31)),
        (D("428.57"), date(2026, 2, 1), date(2026, 2, 20)),
    ]
    assert [segment["billable_days"] for segment in lines[1].source["segments"]] == [5, 16]


def test_a_backdated_service_paused_through_a_whole_period_has_no_line_for_it():
    # Given dated 15 Dec, recorded 2 Feb, paused from 1 Jan and lifted on 1 Feb
    pause = SuspensionFacts(uuid.uuid4(), date(2026, 1, 1), date(2026, 2, 1), True)
    service = _service(
        activation_date=date(2025, 12, 15), activation_recorded_on=date(2026, 2, 2), suspensions=(pause,)
    )
    # When the 1 March invoice is made / Then 15-31 Dec, no January, February, and March
    invoice = bill_customer(_customer(service), date(2026, 3, 1), VAT)
    assert invoice is not None
    assert [(line.period_start, line.amount) for line in invoice.lines] == [
        (date(2025, 12, 15), D("274.19")),
        (date(2026, 2, 1), D("500.00")),
        (date(2026, 3, 1), D("500.00")),
    ]


def test_a_backdated_service_restarted_inside_the_previous_period_gets_one_line_for_it():
    # Given dated 10 Jan, recorded 20 Feb, paused 25 Jan - 14 Feb (the reactivation rule would also claim Feb)
    pause = SuspensionFacts(uuid.uuid4(), date(2026, 1, 25), date(2026, 2, 15), True)
    service = _service(
        activation_date=date(2026, 1, 10), activation_recorded_on=date(2026, 2, 20), suspensions=(pause,)
    )
    invoice = bill_customer(_customer(service), date(2026, 3, 1), VAT)
    assert invoice is not None
    keys = [line.line_key for line in invoice.lines]
    assert len(keys) == len(set(keys)) == 3
    # 10-24 Jan: 15 of 31 days; 15-28 Feb: 14 of 28
    assert [line.amount for line in invoice.lines] == [D("241.94"), D("250.00"), D("500.00")]
