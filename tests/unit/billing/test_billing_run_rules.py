"""The billing rules (issue 11, domain.md) as pure functions: each line, its amount to the cent."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from isp_billing.billing.facts_models import (
    BilledLineFacts,
    ChargeFacts,
    CustomerFacts,
    PriceChangeFacts,
    ServiceFacts,
    SuspensionFacts,
)
from isp_billing.billing.periods import days_in_period, period_containing
from isp_billing.billing.rules import bill_customer, problems, totals
from isp_billing.money import pro_rata, vat_from_inclusive

VAT = Decimal("15.00")
D = Decimal


def _service(**extra) -> ServiceFacts:
    values = {
        "id": uuid.uuid4(),
        "name": "Fibre 50",
        "status": "active",
        "monthly_price": D("699.00"),
        "activation_date": date(2025, 1, 10),
        "cancellation_effective_date": None,
        **extra,
    }
    return ServiceFacts(**values)


def _customer(*services: ServiceFacts, billing_day: int = 25, credit: str = "0.00", **extra) -> CustomerFacts:
    return CustomerFacts(
        customer_id=uuid.uuid4(),
        billing_day=billing_day,
        payment_terms_days=7,
        credit_balance=D(credit),
        services=services,
        **extra,
    )


def _amounts(invoice) -> list[tuple[str, Decimal]]:
    return [(line.kind, line.amount) for line in invoice.lines]


def test_domain_worked_example_pro_rata_is_338_23_then_the_full_month():
    # Given billing day 25 and a R699 service activated on 10 February 2026 (period 25 Jan - 24 Feb, 31 days)
    customer = _customer(_service(activation_date=date(2026, 2, 10)))
    # When the invoice for the period starting 25 February is made
    invoice = bill_customer(customer, date(2026, 2, 25), VAT)
    # Then it has the pro-rata line 699 x 15 / 31 = 338.23 and the full month, and VAT adds up
    assert invoice is not None
    assert _amounts(invoice) == [("pro_rata", D("338.23")), ("recurring", D("699.00"))]
    catch_up = invoice.lines[0]
    assert catch_up.source["rule"] == "activation_pro_rata" and catch_up.source["days_in_period"] == 31
    assert catch_up.source["segments"][0]["billable_days"] == 15
    assert (catch_up.period_start, catch_up.period_end) == (date(2026, 2, 10), date(2026, 2, 24))
    assert invoice.total_amount == D("1037.23")
    assert invoice.vat_amount == D("135.29") and invoice.subtotal == D("901.94")
    assert invoice.due_date == date(2026, 3, 4)


def test_an_active_service_gets_one_recurring_line_with_its_source():
    # Given a long-active service / When billed / Then one recurring line at its monthly price
    invoice = bill_customer(_customer(_service()), date(2026, 3, 25), VAT)
    assert invoice is not None and _amounts(invoice) == [("recurring", D("699.00"))]
    assert invoice.lines[0].source == {"rule": "recurring", "monthly_price": "699.00", "days_in_period": 31}
    assert (invoice.lines[0].period_start, invoice.lines[0].period_end) == (
        date(2026, 3, 25),
        date(2026, 4, 24),
    )


def test_pending_and_later_activated_services_are_not_billed():
    # Given a pending service and one activated after the billing date
    customer = _customer(
        _service(status="pending", activation_date=None), _service(activation_date=date(2026, 3, 26))
    )
    # When billed on 25 March / Then there is nothing to bill
    assert bill_customer(customer, date(2026, 3, 25), VAT) is None


def test_activation_on_the_billing_day_after_the_run_is_a_full_month_catch_up():
    # Given a service activated on the billing date 25 Feb itself, not on that day's invoice
    customer = _customer(_service(activation_date=date(2026, 2, 25)))
    # When the next period (25 Mar) is billed
    invoice = bill_customer(customer, date(2026, 3, 25), VAT)
    # Then the whole previous period is charged pro-rata (28/28 = the monthly price) plus the new month
    assert invoice is not None and _amounts(invoice) == [
        ("pro_rata", D("699.00")),
        ("recurring", D("699.00")),
    ]


def test_a_service_invoiced_for_the_previous_period_gets_no_catch_up():
    billed = BilledLineFacts("recurring", date(2026, 2, 25), date(2026, 3, 24), D("699.00"))
    customer = _customer(_service(activation_date=date(2026, 2, 25), previous_line=billed))
    invoice = bill_customer(customer, date(2026, 3, 25), VAT)
    assert invoice is not None and _amounts(invoice) == [("recurring", D("699.00"))]


def test_upgrade_inside_the_previous_period_charges_the_pro_rata_difference():
    # Given a service invoiced at 699 for 25 Feb - 24 Mar (28 days) and upgraded to 899 from 11 March
    change = PriceChangeFacts(uuid.uuid4(), date(2026, 3, 11), D("699.00"), D("899.00"))
    billed = BilledLineFacts("recurring", date(2026, 2, 25), date(2026, 3, 24), D("699.00"))
    customer = _customer(_service(monthly_price=D("899.00"), price_changes=(change,), previous_line=billed))
    # When 25 March is billed
    invoice = bill_customer(customer, date(2026, 3, 25), VAT)
    # Then (899 - 699) x 14 / 28 = 100.00 and the new month at 899
    assert invoice is not None
    assert _amounts(invoice) == [("adjustment", D("100.00")), ("recurring", D("899.00"))]
    assert invoice.lines[0].source["days"] == 14 and invoice.lines[0].line_key == f"price_change:{change.id}"


def test_downgrade_gives_a_negative_difference():
    change = PriceChangeFacts(uuid.uuid4(), date(2026, 3, 20), D("899.00"), D("599.00"))
    billed = BilledLineFacts("recurring", date(2026, 2, 25), date(2026, 3, 24), D("899.00"))
    customer = _customer(_service(monthly_price=D("599.00"), price_changes=(change,), previous_line=billed))
    invoice = bill_customer(customer, date(2026, 3, 25), VAT)
    # (599 - 899) x 5 / 28 = -53.571... -> -53.57
    assert invoice is not None and _amounts(invoice) == [
        ("adjustment", D("-53.57")),
        ("recurring", D("599.00")),
    ]


def test_a_change_effective_on_the_billing_date_and_known_then_needs_no_difference():
    change = PriceChangeFacts(uuid.uuid4(), date(2026, 2, 25), D("699.00"), D("899.00"))
    billed = BilledLineFacts("recurring", date(2026, 2, 25), date(2026, 3, 24), D("899.00"))
    customer = _customer(_service(monthly_price=D("899.00"), price_changes=(change,), previous_line=billed))
    invoice = bill_customer(customer, date(2026, 3, 25), VAT)
    assert invoice is not None and _amounts(invoice) == [("recurring", D("899.00"))]


def test_a_future_price_change_bills_the_old_price_until_it_takes_effect():
    change = PriceChangeFacts(uuid.uuid4(), date(2026, 4, 1), D("699.00"), D("899.00"))
    customer = _customer(_service(monthly_price=D("899.00"), price_changes=(change,)))
    invoice = bill_customer(customer, date(2026, 3, 25), VAT)
    assert invoice is not None and _amounts(invoice) == [("recurring", D("699.00"))]


def test_cancellation_inside_an_invoiced_period_credits_the_unused_days():
    # Given 25 Feb - 24 Mar invoiced at 699 and a cancellation effective 10 March (days 11-24 unused: 14)
    billed = BilledLineFacts("recurring", date(2026, 2, 25), date(2026, 3, 24), D("699.00"))
    service = _service(
        status="cancelled", cancellation_effective_date=date(2026, 3, 10), previous_line=billed
    )
    customer = _customer(service, credit="0.00")
    # When 25 March is billed
    invoice = bill_customer(customer, date(2026, 3, 25), VAT)
    # Then a credit of 699 x 14 / 28 = 349.50, no recurring line: a credit note for the excess (never a zero
    # invoice with a balancing line), whose amount becomes credit on account
    assert invoice is not None
    assert _amounts(invoice) == [("credit", D("-349.50"))]
    assert invoice.kind == "credit_note" and invoice.total_amount == D("-349.50")
    assert invoice.vat_amount == D("-45.59") and invoice.credit_added == D("349.50")
    assert invoice.lines[0].source["unused_days"] == 14


def test_cancellation_effective_inside_the_new_period_charges_only_used_days():
    service = _service(status="cancelled", cancellation_effective_date=date(2026, 4, 4))
    invoice = bill_customer(_customer(service), date(2026, 3, 25), VAT)
    # 25 Mar - 4 Apr is 11 of 31 days: 699 x 11 / 31 = 248.03
    assert invoice is not None and _amounts(invoice) == [("pro_rata", D("248.03"))]
    assert invoice.lines[0].source["rule"] == "final_period_pro_rata"


def test_cancellation_at_the_period_end_charges_nothing_more():
    billed = BilledLineFacts("recurring", date(2026, 2, 25), date(2026, 3, 24), D("699.00"))
    service = _service(
        status="cancelled", cancellation_effective_date=date(2026, 3, 24), previous_line=billed
    )
    assert bill_customer(_customer(service), date(2026, 3, 25), VAT) is None


def test_a_billing_pausing_suspension_gets_no_line_and_credits_paused_invoiced_days():
    # Given 25 Feb - 24 Mar invoiced, suspended at the customer's request from 15 March, still open
    billed = BilledLineFacts("recurring", date(2026, 2, 25), date(2026, 3, 24), D("699.00"))
    suspension = SuspensionFacts(uuid.uuid4(), date(2026, 3, 15), None, True)
    service = _service(status="suspended", suspensions=(suspension,), previous_line=billed)
    # When 25 March is billed
    invoice = bill_customer(_customer(service), date(2026, 3, 25), VAT)
    # Then 15-24 March (10 days) are credited: 699 x 10 / 28 = 249.64; no recurring line
    assert invoice is not None and _amounts(invoice) == [("credit", D("-249.64"))]
    assert invoice.kind == "credit_note" and invoice.credit_added == D("249.64")


def test_a_suspension_that_does_not_pause_billing_is_billed():
    suspension = SuspensionFacts(uuid.uuid4(), date(2026, 3, 1), None, False)
    service = _service(status="suspended", suspensions=(suspension,))
    invoice = bill_customer(_customer(service), date(2026, 3, 25), VAT)
    assert invoice is not None and _amounts(invoice) == [("recurring", D("699.00"))]


def test_reactivation_inside_a_period_not_invoiced_is_pro_rata_from_r():
    # Given paused since 10 Feb (no line for 25 Feb - 24 Mar) and reactivated on 20 March
    suspension = SuspensionFacts(uuid.uuid4(), date(2026, 2, 10), date(2026, 3, 20), True)
    service = _service(suspensions=(suspension,))
    invoice = bill_customer(_customer(service), date(2026, 3, 25), VAT)
    # Then 20-24 March (5 of 28 days): 699 x 5 / 28 = 124.82, plus the new month
    assert invoice is not None
    assert _amounts(invoice) == [("pro_rata", D("124.82")), ("recurring", D("699.00"))]
    assert invoice.lines[0].source["rule"] == "reactivation_pro_rata"


def test_reactivation_on_the_billing_day_after_that_days_run_is_a_full_period_catch_up():
    # Given paused since 10 Feb, reactivated on 25 Feb (the billing date) after the 02:00 run billed nothing
    suspension = SuspensionFacts(uuid.uuid4(), date(2026, 2, 10), date(2026, 2, 25), True)
    invoice = bill_customer(_customer(_service(suspensions=(suspension,))), date(2026, 3, 25), VAT)
    # Then the whole of 25 Feb - 24 Mar is charged on the next invoice, plus the new month
    assert invoice is not None
    assert _amounts(invoice) == [("pro_rata", D("699.00")), ("recurring", D("699.00"))]


def test_once_off_charges_due_are_carried_and_later_ones_wait():
    due = ChargeFacts(uuid.uuid4(), "installation", "Installation", D("1500.00"), date(2026, 3, 20))
    later = ChargeFacts(uuid.uuid4(), "equipment", "Router", D("999.00"), date(2026, 3, 26))
    customer = _customer(_service(), charges=(due, later))
    invoice = bill_customer(customer, date(2026, 3, 25), VAT)
    assert invoice is not None
    assert _amounts(invoice) == [("recurring", D("699.00")), ("installation", D("1500.00"))]
    assert invoice.charge_ids == (due.id,)


def test_credit_balance_is_applied_after_tax_and_only_up_to_the_total():
    # Given R100 of account credit, then R1000
    invoice = bill_customer(_customer(_service(), credit="100.00"), date(2026, 3, 25), VAT)
    # Then the invoice is for what is supplied (VAT on all of it) and the credit is not a line: the run
    # allocates R100 to it after tax
    assert invoice is not None and _amounts(invoice) == [("recurring", D("699.00"))]
    assert (invoice.total_amount, invoice.vat_amount, invoice.credit_applied) == (
        D("699.00"),
        D("91.17"),
        D("100.00"),
    )
    big = bill_customer(_customer(_service(), credit="1000.00"), date(2026, 3, 25), VAT)
    assert big is not None and big.total_amount == D("699.00") and big.credit_applied == D("699.00")


def test_lines_already_given_are_not_repeated():
    billed = BilledLineFacts("recurring", date(2026, 2, 25), date(2026, 3, 24), D("699.00"))
    service = _service(
        status="cancelled", cancellation_effective_date=date(2026, 3, 10), previous_line=billed
    )
    customer = _customer(service, given_keys=frozenset({f"cancel_credit:{service.id}"}))
    assert bill_customer(customer, date(2026, 3, 25), VAT) is None


def test_inconsistent_customers_are_problems():
    assert problems(_customer(_service(), billing_day=None))[0].error_code == "missing_billing_row"
    assert problems(_customer(_service(), billing_day=32))[0].error_code == "billing_day_out_of_range"
    assert problems(_customer(_service(monthly_price=None)))[0].error_code == "service_without_price"
    assert problems(_customer(_service())) == []


# --- properties -------------------------------------------------------------------------------------------

amounts = st.decimals(
    min_value=D("-5000"), max_value=D("5000"), places=2, allow_nan=False, allow_infinity=False
)
prices = st.decimals(min_value=D("0"), max_value=D("20000"), places=2, allow_nan=False, allow_infinity=False)
days_of = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(
    st.lists(amounts, min_size=1, max_size=30),
    st.sampled_from([D("15.00"), D("15.50"), D("14.00"), D("0.00")]),
)
def test_subtotal_plus_vat_is_the_total_and_vat_is_within_half_a_cent(lines, rate):
    subtotal, vat, total = totals(lines, rate)
    assert subtotal + vat == total == sum(lines)
    exact = total * rate / (100 + rate)
    assert abs(vat - exact) <= D("0.005")


@given(prices, days_of, st.integers(min_value=1, max_value=31))
def test_pro_rata_for_the_whole_period_is_the_monthly_price(price, day, billing_day):
    start, end = period_containing(day, billing_day)
    days = days_in_period(start, end)
    assert pro_rata(price, days, days) == price


@given(prices, days_of, st.integers(min_value=1, max_value=31), st.lists(st.integers(1, 30), max_size=5))
def test_pro_rata_parts_add_up_to_the_price_within_a_cent_per_part(price, day, billing_day, cuts):
    start, end = period_containing(day, billing_day)
    days = days_in_period(start, end)
    points = sorted({cut for cut in cuts if cut < days})
    bounds = [0, *points, days]
    parts = [pro_rata(price, bounds[i + 1] - bounds[i], days) for i in range(len(bounds) - 1)]
    assert abs(sum(parts) - price) <= D("0.01") * len(parts)


@given(prices, st.integers(min_value=1, max_value=31), days_of)
def test_an_invoice_is_never_negative_and_always_adds_up(price, billing_day, day):
    # Given any service cancelled inside an invoiced period, with any credit balance
    start, _ = period_containing(day, billing_day)
    q_start, q_end = period_containing(start.fromordinal(start.toordinal() - 1), billing_day)
    billed = BilledLineFacts("recurring", q_start, q_end, price)
    service = _service(
        status="cancelled", monthly_price=price, cancellation_effective_date=q_start, previous_line=billed
    )
    invoice = bill_customer(_customer(service, billing_day=billing_day, credit="10.00"), start, VAT)
    # Then an invoice's total is never below zero (a credit note is negative), the VAT split adds up, and
    # money on account is never a line
    if invoice is not None:
        assert (invoice.total_amount >= 0) == (invoice.kind == "recurring")
        assert invoice.subtotal + invoice.vat_amount == invoice.total_amount
        assert all(line.source.get("rule") != "credit_balance_applied" for line in invoice.lines)
        assert sum(line.amount for line in invoice.lines) == invoice.total_amount


credits = st.decimals(min_value=D("0"), max_value=D("5000"), places=2, allow_nan=False, allow_infinity=False)


@given(prices, prices, credits, st.integers(min_value=1, max_value=31), days_of, st.booleans())
def test_money_on_account_never_changes_what_is_supplied_or_its_vat(
    price, second_price, credit, billing_day, day, cancelled
):
    # Given any two services (the first maybe cancelled inside the invoiced period) and any credit balance
    start, _ = period_containing(day, billing_day)
    q_start, q_end = period_containing(start.fromordinal(start.toordinal() - 1), billing_day)
    billed = BilledLineFacts("recurring", q_start, q_end, price)
    first = _service(
        status="cancelled" if cancelled else "active",
        monthly_price=price,
        cancellation_effective_date=q_start if cancelled else None,
        previous_line=billed,
    )
    second = _service(monthly_price=second_price)
    with_credit = bill_customer(
        _customer(first, second, billing_day=billing_day, credit=str(credit)), start, VAT
    )
    without = bill_customer(_customer(first, second, billing_day=billing_day), start, VAT)
    # Then the document is the same with or without it: the same lines, total and VAT (the VAT of what is
    # supplied net of the credits for earlier supplies); the credit is only what the run will allocate
    assert (with_credit is None) == (without is None)
    if with_credit is not None and without is not None:
        assert _amounts(with_credit) == _amounts(without)
        assert (with_credit.kind, with_credit.total_amount, with_credit.vat_amount) == (
            without.kind,
            without.total_amount,
            without.vat_amount,
        )
        supplied = sum((line.amount for line in with_credit.lines), D("0"))
        assert with_credit.vat_amount == vat_from_inclusive(supplied, VAT)
        expected = min(credit, with_credit.total_amount) if with_credit.total_amount > 0 else D("0")
        assert with_credit.credit_applied == expected
