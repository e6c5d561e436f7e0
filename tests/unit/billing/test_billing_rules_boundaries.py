"""Boundaries of the billing rules the mutation run found untested: a day on each side of each comparison."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from isp_billing.billing.facts_models import (
    BilledLineFacts,
    CustomerFacts,
    PriceChangeFacts,
    ServiceFacts,
    SuspensionFacts,
)
from isp_billing.billing.rules import (
    bill_customer,
    billing_day_credit,
    cancellation_credit,
    catch_up_line,
    missed_period_lines,
    price_change_lines,
    problems,
    recurring_line,
    suspension_credits,
)

D = Decimal


def _service(**extra) -> ServiceFacts:
    values = {
        "id": uuid.uuid4(),
        "name": "Fibre 50",
        "status": "active",
        "monthly_price": D("620.00"),
        "activation_date": date(2025, 6, 1),
        "cancellation_effective_date": None,
        **extra,
    }
    return ServiceFacts(**values)


def test_a_billing_day_credit_on_a_line_without_a_recorded_basis_uses_the_lines_own_days():
    # Given a line 1-31 Jan (31 days) whose source had no days_in_period, and Q recorded as 1-10 Jan
    billed = BilledLineFacts("recurring", date(2026, 1, 1), date(2026, 1, 31), D("620.00"), None)
    credit = billing_day_credit(_service(previous_line=billed), date(2026, 1, 1), date(2026, 1, 10))
    # Then 11-31 Jan: 620 x 21 / 31 = 420.00
    assert credit is not None and credit.amount == D("-420.00") and credit.source["days_in_period"] == 31


def test_missed_periods_follow_the_recorded_periods_not_the_billing_days():
    # Given day 5 now, a period recorded as 25 Jan - 4 Feb (basis 31, shortened by a change from day 25),
    # Q 5 Feb - 4 Mar recorded too, and an activation dated 28 Jan recorded on 10 Feb
    service = _service(activation_date=date(2026, 1, 28), activation_recorded_on=date(2026, 2, 10))
    recorded = ((date(2026, 1, 25), date(2026, 2, 4), 31), (date(2026, 2, 5), date(2026, 3, 4), 28))
    lines = missed_period_lines(service, date(2026, 2, 5), date(2026, 3, 4), 5, 28, recorded)
    # Then one line for 28 Jan - 4 Feb of the recorded period (its key, its basis) and one for Q
    assert [(line.line_key.rsplit(":", 1)[1], line.amount) for line in lines] == [
        ("2026-01-25", D("160.00")),  # 620 x 8 / 31
        ("2026-02-05", D("620.00")),
    ]


def test_a_recorded_period_ending_the_day_of_the_activation_is_billed_for_that_day():
    # Given day 1, a period recorded as 1-31 Jan, activated 31 Jan (recorded 2 Feb)
    service = _service(activation_date=date(2026, 1, 31), activation_recorded_on=date(2026, 2, 2))
    recorded = ((date(2026, 1, 1), date(2026, 1, 31), 31),)
    lines = missed_period_lines(service, date(2026, 2, 1), date(2026, 2, 28), 1, 28, recorded)
    assert [line.amount for line in lines] == [D("20.00"), D("620.00")]


def test_a_price_change_effective_on_the_last_day_splits_the_catch_up():
    # Given day 1, activated 20 Jan, R620 -> R930 from 31 Jan (the period's last day)
    change = PriceChangeFacts(uuid.uuid4(), date(2026, 1, 31), D("620.00"), D("930.00"))
    service = _service(activation_date=date(2026, 1, 20), price_changes=(change,), monthly_price=D("930.00"))
    line = catch_up_line(service, date(2026, 1, 1), date(2026, 1, 31))
    # Then 20-30 Jan at 620 (11 days: 220.00) and 31 Jan at 930 (30.00)
    assert line is not None and line.amount == D("250.00")
    assert [segment["billable_days"] for segment in line.source["segments"]] == [11, 1]
    assert line.source["monthly_price"] == "930.00"


def test_a_cancellation_effective_on_the_invoiced_lines_first_day_credits_the_rest():
    # Given a line 1-31 Jan at R620 and the last day 1 Jan
    billed = BilledLineFacts("recurring", date(2026, 1, 1), date(2026, 1, 31), D("620.00"), 31)
    service = _service(previous_line=billed, status="cancelled", cancellation_effective_date=date(2026, 1, 1))
    credit = cancellation_credit(service, date(2026, 1, 1), date(2026, 1, 31))
    # Then 2-31 Jan (30 days) is credited
    assert credit is not None and credit.amount == D("-600.00")


def test_no_reactivation_catch_up_for_a_service_activated_after_the_period():
    # Given day 1, activated 5 Feb, with a (recorded) suspension lifted inside January
    pause = SuspensionFacts(uuid.uuid4(), date(2025, 12, 20), date(2026, 1, 10), True)
    service = _service(activation_date=date(2026, 2, 5), suspensions=(pause,))
    # Then January has no line for it
    assert catch_up_line(service, date(2026, 1, 1), date(2026, 1, 31)) is None


def test_a_cancellation_inside_a_bridging_period_ends_its_line_on_the_last_day():
    # Given day 3 and a bridging period 5 Mar - 2 Apr (basis 31), the service's last day 20 Mar
    service = _service(status="cancelled", cancellation_effective_date=date(2026, 3, 20))
    line = recurring_line(service, date(2026, 3, 5), date(2026, 4, 2), 31)
    # Then 5-20 Mar: 620 x 16 / 31 = 320.00, the final period
    assert line is not None and line.amount == D("320.00") and line.source["rule"] == "final_period_pro_rata"


def test_a_whole_missed_period_with_a_price_change_inside_is_a_pro_rata_line():
    # Given day 1, dated 10 Jan, recorded 5 Feb; R620 -> R930 from 15 Feb
    change = PriceChangeFacts(uuid.uuid4(), date(2026, 2, 15), D("620.00"), D("930.00"))
    service = _service(
        activation_date=date(2026, 1, 10), activation_recorded_on=date(2026, 2, 5), price_changes=(change,)
    )
    lines = missed_period_lines(service, date(2026, 2, 1), date(2026, 2, 28), 1)
    # Then February (all its days, two prices) is a pro-rata line of two segments: 310.00 + 465.00
    assert [(line.kind, line.amount) for line in lines] == [
        ("pro_rata", D("440.00")),
        ("pro_rata", D("775.00")),
    ]


def test_a_price_change_on_the_invoiced_lines_last_day_is_charged_for_that_day():
    # Given a line 1-31 Jan at R620 and R620 -> R930 from 31 Jan
    change = PriceChangeFacts(uuid.uuid4(), date(2026, 1, 31), D("620.00"), D("930.00"))
    billed = BilledLineFacts("recurring", date(2026, 1, 1), date(2026, 1, 31), D("620.00"), 31)
    service = _service(previous_line=billed, price_changes=(change,), monthly_price=D("930.00"))
    (line,) = price_change_lines(service, date(2026, 1, 1), date(2026, 1, 31))
    # Then (930 - 620) x 1 / 31 = 10.00
    assert line.amount == D("10.00") and line.source["days"] == 1


def test_a_recorded_period_that_is_not_the_previous_one_gives_no_basis_to_the_catch_up():
    # Given day 1, the last recorded period December (a gap since), activated 15 Feb
    customer = CustomerFacts(
        uuid.uuid4(),
        1,
        7,
        D("0.00"),
        services=(_service(activation_date=date(2026, 2, 15)),),
        previous_period=(date(2025, 12, 1), date(2025, 12, 31)),
        previous_period_days=31,
    )
    invoice = bill_customer(customer, date(2026, 3, 1), Decimal("15.00"))
    # Then February's catch-up is 620 x 14 / 28 (February's own days)
    assert invoice is not None and invoice.lines[0].amount == D("310.00")


def test_an_activation_on_the_periods_first_day_is_caught_up_in_full_and_one_before_it_is_not():
    # Given day 1 and January not invoiced for the service
    on_first_day = _service(activation_date=date(2026, 1, 1))
    line = catch_up_line(on_first_day, date(2026, 1, 1), date(2026, 1, 31))
    assert line is not None and line.amount == D("620.00") and line.source["rule"] == "activation_pro_rata"
    # And a service activated long before, paused since 20 Dec (still), has no catch-up for January
    pause = SuspensionFacts(uuid.uuid4(), date(2025, 12, 20), None, True)
    paused = _service(activation_date=date(2025, 6, 1), suspensions=(pause,))
    assert catch_up_line(paused, date(2026, 1, 1), date(2026, 1, 31)) is None


def test_a_price_change_back_to_the_invoiced_price_inside_the_line_is_still_charged():
    # Given a line 1-31 Jan billed at R930 (R620 -> R930 from 1 Jan), back to R620 from 11 Jan and to R930
    # again from 21 Jan
    changes = (
        PriceChangeFacts(uuid.uuid4(), date(2026, 1, 1), D("620.00"), D("930.00")),
        PriceChangeFacts(uuid.uuid4(), date(2026, 1, 11), D("930.00"), D("620.00")),
        PriceChangeFacts(uuid.uuid4(), date(2026, 1, 21), D("620.00"), D("930.00")),
    )
    billed = BilledLineFacts("recurring", date(2026, 1, 1), date(2026, 1, 31), D("930.00"), 31)
    service = _service(previous_line=billed, price_changes=changes, monthly_price=D("930.00"))
    lines = price_change_lines(service, date(2026, 1, 1), date(2026, 1, 31))
    # Then 11-31 Jan is credited 310 x 21 / 31 and 21-31 Jan charged 310 x 11 / 31 again: 11-20 Jan at R620
    assert [line.amount for line in lines] == [D("-210.00"), D("110.00")]


def test_a_cancellation_dated_before_the_invoiced_line_gives_no_credit():
    billed = BilledLineFacts("pro_rata", date(2026, 1, 10), date(2026, 1, 31), D("620.00"), 31)
    service = _service(previous_line=billed, status="cancelled", cancellation_effective_date=date(2026, 1, 5))
    assert cancellation_credit(service, date(2026, 1, 1), date(2026, 1, 31)) is None


def test_a_pausing_suspension_lifted_before_the_invoiced_line_gives_no_credit_line():
    billed = BilledLineFacts("recurring", date(2026, 1, 1), date(2026, 1, 31), D("620.00"), 31)
    pause = SuspensionFacts(uuid.uuid4(), date(2025, 12, 1), date(2025, 12, 10), True)
    service = _service(previous_line=billed, suspensions=(pause,))
    assert suspension_credits(service, date(2026, 1, 1), date(2026, 1, 31)) == []


def test_a_service_activated_on_the_billing_date_gets_its_recurring_line():
    line = recurring_line(_service(activation_date=date(2026, 2, 1)), date(2026, 2, 1), date(2026, 2, 28))
    assert line is not None and line.amount == D("620.00")


def test_the_reactivation_is_the_lift_of_the_suspension_open_at_the_periods_start_whatever_the_order():
    # Given day 1, a suspension from 20 Dec lifted on 5 Jan, and another from 15 to 20 Jan (listed first)
    inside = SuspensionFacts(uuid.uuid4(), date(2026, 1, 15), date(2026, 1, 20), True)
    across = SuspensionFacts(uuid.uuid4(), date(2025, 12, 20), date(2026, 1, 5), True)
    service = _service(suspensions=(inside, across))
    line = catch_up_line(service, date(2026, 1, 1), date(2026, 1, 31))
    # Then January from 5 Jan, less 15-19 Jan: 22 days
    assert line is not None and line.period_start == date(2026, 1, 5)
    assert line.source["segments"][0]["billable_days"] == 22


def test_a_price_change_dated_before_the_invoiced_line_is_already_in_its_price():
    # Given a catch-up line from 10 Jan billed at R930, the change R620 -> R930 from 5 Jan
    change = PriceChangeFacts(uuid.uuid4(), date(2026, 1, 5), D("620.00"), D("930.00"))
    billed = BilledLineFacts("pro_rata", date(2026, 1, 10), date(2026, 1, 31), D("930.00"), 31)
    service = _service(previous_line=billed, price_changes=(change,), monthly_price=D("930.00"))
    assert price_change_lines(service, date(2026, 1, 1), date(2026, 1, 31)) == []


def test_a_price_change_from_the_lines_first_day_entered_after_it_was_invoiced_is_charged_in_full():
    for old, new, amount in (("620.00", "930.00", "310.00"), ("930.00", "620.00", "-310.00")):
        # Given a line 1-31 Jan billed at the old price, and a change from 1 Jan entered after
        change = PriceChangeFacts(uuid.uuid4(), date(2026, 1, 1), D(old), D(new))
        billed = BilledLineFacts("recurring", date(2026, 1, 1), date(2026, 1, 31), D(old), 31)
        service = _service(previous_line=billed, price_changes=(change,), monthly_price=D(new))
        (line,) = price_change_lines(service, date(2026, 1, 1), date(2026, 1, 31))
        # Then the whole difference
        assert line.amount == D(amount)


def test_billing_day_zero_is_out_of_range():
    customer = CustomerFacts(uuid.uuid4(), 0, 7, D("0.00"))
    assert [problem.error_code for problem in problems(customer)] == ["billing_day_out_of_range"]


def test_a_credit_balance_under_a_rand_is_applied_and_none_is_applied_to_a_credit_invoice():
    # Given R0.50 of credit and a R620 month / Then 0.50 is applied after tax: the supply's total is unchanged
    customer = CustomerFacts(uuid.uuid4(), 1, 7, D("0.50"), services=(_service(),))
    invoice = bill_customer(customer, date(2026, 2, 1), Decimal("15.00"))
    assert invoice is not None and invoice.credit_applied == D("0.50") and invoice.total_amount == D("620.00")
    # Given credits exceeding the charges and R100 credit / Then no credit is applied, the excess is carried
    billed = BilledLineFacts("recurring", date(2026, 1, 1), date(2026, 1, 31), D("620.00"), 31)
    cancelled = _service(
        previous_line=billed, status="cancelled", cancellation_effective_date=date(2026, 1, 10)
    )
    customer = CustomerFacts(uuid.uuid4(), 1, 7, D("100.00"), services=(cancelled,))
    invoice = bill_customer(customer, date(2026, 2, 1), Decimal("15.00"))
    assert invoice is not None and invoice.credit_applied == D("0.00") and invoice.credit_added == D("420.00")
