"""Out-of-bundle usage on the invoice (issue 13): the overage rule and its correction settlement, pure."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from isp_billing.billing.facts_models import (
    AssessedUsageFacts,
    CustomerFacts,
    ServiceFacts,
    ServiceUsageFacts,
    UsagePeriodFacts,
)
from isp_billing.billing.overage import over_gb, overage_amount, overage_lines, usage_totals
from isp_billing.billing.rules import bill_customer
from isp_billing.invoices.line_reasons import reason

D = Decimal
VAT = D("15.00")
INVOICE = date(2026, 3, 1)  # billing day 1: Q = 1-28 Feb 2026, the period before it 1-31 Jan 2026
GB = D(1024)


def _period(
    total_mb: Decimal, start: date = date(2026, 2, 1), end: date = date(2026, 2, 28)
) -> UsagePeriodFacts:
    return UsagePeriodFacts(start, end, total_mb / 4, total_mb - total_mb / 4, total_mb)


def _service(
    used_mb: Decimal,
    *,
    cap: int | None = 100,
    price: str | None = "10.00",
    before: AssessedUsageFacts | None = None,
) -> ServiceFacts:
    return ServiceFacts(
        id=uuid.UUID("00000000-0000-4000-8000-00000000000a"),
        name="LTE 100 GB",
        status="active",
        monthly_price=D("399.00"),
        activation_date=date(2025, 6, 1),
        cancellation_effective_date=None,
        usage=ServiceUsageFacts(
            data_cap_gb=cap,
            price_per_gb=None if price is None else D(price),
            previous=_period(used_mb),
            before=before,
        ),
    )


def _january(
    used_mb: Decimal, billed: str, cap: int | None = 100, price: str | None = "10.00"
) -> AssessedUsageFacts:
    return AssessedUsageFacts(
        usage=_period(used_mb, date(2026, 1, 1), date(2026, 1, 31)),
        data_cap_gb=cap,
        price_per_gb=None if price is None else D(price),
        billed=D(billed),
    )


def test_no_usage_no_line():
    # Given a capped, priced service with no usage in the previous period
    # When its overage is computed / Then there is no line
    assert overage_lines(_service(D("0")), INVOICE) == []


def test_under_the_cap_no_line():
    assert overage_lines(_service(99 * GB), INVOICE) == []


def test_exactly_at_the_cap_no_line():
    # Given usage of exactly 100 GB (102,400 MB) on a 100 GB cap / Then nothing is over
    assert overage_lines(_service(100 * GB), INVOICE) == []


def test_above_the_cap_one_line_with_its_figures():
    # Given 112.5 GB used on a 100 GB cap at R10.00/GB
    lines = overage_lines(_service(D("115200.000")), INVOICE)
    # Then one overage line: 12.500 GB x R10.00 = R125.00, keyed by service and period
    assert len(lines) == 1
    line = lines[0]
    assert (line.kind, line.amount) == ("overage", D("125.00"))
    assert line.line_key == "overage:00000000-0000-4000-8000-00000000000a:2026-02-01"
    assert (line.period_start, line.period_end) == (date(2026, 2, 1), date(2026, 2, 28))
    assert line.source == {
        "rule": "overage",
        "period": {"start": "2026-02-01", "end": "2026-02-28"},
        "used_mb": "115200.000",
        "cap_gb": 100,
        "over_gb": "12.500",
        "price_per_gb": "10.00",
        "already_billed": "0.00",
        "formula": "round_half_up(ceil_0.001((used_mb - cap_gb x 1024) / 1024) x price_per_gb)",
    }


def test_rounding_a_started_thousandth_of_a_gb_is_charged_then_cents_half_up():
    # Given 1 MB over the cap: 1/1024 GB = 0.0009765… GB
    # Then it is charged as 0.001 GB (rounded up), and the amount to cents half up
    assert over_gb(100 * GB + 1, 100) == D("0.001")
    assert overage_amount(100 * GB + 1, 100, D("10.00")) == D("0.01")
    # 1.0005 GB would be 1.001 GB: at R9.99 that is 9.99999 -> R10.00
    assert overage_amount(101 * GB + D("0.512"), 100, D("9.99")) == D("10.00")
    # 5 GB at R4.99/GB: exactly R24.95
    assert overage_amount(105 * GB, 100, D("4.99")) == D("24.95")


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=5000))
def test_never_charges_less_than_what_was_used(used_kb: int, cap: int):
    # Given any usage (to the KB) and cap / Then the GB charged cover the MB used above the cap
    used = D(used_kb) / 1024
    over = over_gb(used, cap)
    assert over * GB >= used - cap * GB
    assert over - D("0.001") < max(used - cap * GB, D(0)) / GB or over == 0


def test_one_mb_over_is_a_one_cent_line():
    # Given 1 MB over the cap / Then a line of R0.01 (0.001 GB at R10.00), not nothing
    [line] = overage_lines(_service(100 * GB + 1), INVOICE)
    assert (line.amount, line.source["over_gb"]) == (D("0.01"), "0.001")


def test_null_price_no_line():
    assert overage_lines(_service(D("200000"), price=None), INVOICE) == []


def test_uncapped_no_line():
    assert overage_lines(_service(D("200000"), cap=None), INVOICE) == []


def test_not_live_in_the_previous_period_no_line():
    service = ServiceFacts(
        id=uuid.uuid4(),
        name="Fibre",
        status="active",
        monthly_price=D("699.00"),
        activation_date=date(2026, 2, 20),
        cancellation_effective_date=None,
    )
    assert overage_lines(service, INVOICE) == []


def test_manual_row_replacing_a_synced_one_is_what_the_facts_carry():
    # Given the period's total as the facts carry it (the repository already replaced a synced day of
    # 20,000 MB by a manual 2,000 MB: 110,000 MB synced becomes 92,000 MB)
    # Then the overage follows the effective figure: under the cap, no line
    assert overage_lines(_service(D("92000")), INVOICE) == []
    assert overage_lines(_service(D("110000")), INVOICE)[0].amount == D("74.22")  # 7.422 GB x R10


def test_correction_after_issue_bills_the_difference_on_the_next_invoice():
    # Given January was billed R125.00 (12.5 GB over) and a correction raised January to 20 GB over
    january = _january(120 * GB, billed="125.00")
    lines = overage_lines(_service(D("0"), before=january), INVOICE)
    # Then March's invoice carries one line of R75.00 for January, under a key of its own
    assert len(lines) == 1
    line = lines[0]
    assert (line.kind, line.amount) == ("overage", D("75.00"))
    assert line.line_key == "overage:00000000-0000-4000-8000-00000000000a:2026-01-01:2026-03-01"
    assert (line.period_start, line.period_end) == (date(2026, 1, 1), date(2026, 1, 31))
    assert line.source["rule"] == "overage_correction"
    assert (line.source["should_be"], line.source["already_billed"]) == ("200.00", "125.00")


def test_correction_lowering_usage_is_a_credit():
    # Given January billed R125.00 and then corrected down to 5 GB over
    lines = overage_lines(_service(D("0"), before=_january(105 * GB, billed="125.00")), INVOICE)
    # Then a credit of R75.00
    assert [(line.kind, line.amount) for line in lines] == [("overage", D("-75.00"))]


def test_correction_to_under_the_cap_credits_everything_billed():
    lines = overage_lines(_service(D("0"), before=_january(50 * GB, billed="125.00")), INVOICE)
    assert [line.amount for line in lines] == [D("-125.00")]


def test_correction_of_a_period_assessed_under_the_cap_bills_it_all():
    # Given January was assessed at 90 GB (nothing billed), then corrected to 110 GB
    lines = overage_lines(_service(D("0"), before=_january(110 * GB, billed="0.00")), INVOICE)
    assert [line.amount for line in lines] == [D("100.00")]


def test_no_change_since_the_assessment_no_line():
    assert overage_lines(_service(D("0"), before=_january(D("115200"), billed="125.00")), INVOICE) == []


def test_correction_uses_the_cap_and_price_of_the_assessment_not_todays():
    # Given January assessed at a 100 GB cap and R10/GB; the package is now 200 GB at R20/GB
    service = _service(D("0"), cap=200, price="20.00", before=_january(120 * GB, billed="125.00"))
    assert [line.amount for line in overage_lines(service, INVOICE)] == [D("75.00")]


def test_assessed_without_a_price_is_never_settled():
    service = _service(D("0"), before=_january(120 * GB, billed="0.00", price=None))
    assert overage_lines(service, INVOICE) == []


def test_both_lines_on_one_invoice_and_the_invoice_total():
    # Given February 12.5 GB over and a January correction of +R75
    customer = CustomerFacts(
        customer_id=uuid.uuid4(),
        billing_day=1,
        payment_terms_days=7,
        credit_balance=D("0.00"),
        services=(_service(D("115200"), before=_january(120 * GB, billed="125.00")),),
    )
    invoice = bill_customer(customer, INVOICE, VAT)
    assert invoice is not None
    # Then the recurring R399, the R125 overage and the R75 correction: R599.00
    assert sorted((line.kind, line.amount) for line in invoice.lines) == [
        ("overage", D("75.00")),
        ("overage", D("125.00")),
        ("recurring", D("399.00")),
    ]
    assert invoice.total_amount == D("599.00")
    # And the invoice carries February's usage for display (and for a later settlement)
    assert invoice.usage_totals == {
        "00000000-0000-4000-8000-00000000000a": {
            "service_name": "LTE 100 GB",
            "period_start": "2026-02-01",
            "period_end": "2026-02-28",
            "upload_mb": "28800.000",
            "download_mb": "86400.000",
            "total_mb": "115200.000",
            "data_cap_gb": 100,
            "price_per_gb": "10.00",
        }
    }


def test_usage_totals_none_without_a_live_service():
    service = ServiceFacts(
        id=uuid.uuid4(),
        name="Fibre",
        status="active",
        monthly_price=D("699.00"),
        activation_date=date(2026, 2, 20),
        cancellation_effective_date=None,
    )
    assert usage_totals([service]) is None


def _as_row(line) -> dict:
    return {
        "description": line.description,
        "amount": str(line.amount),
        "period_start": line.period_start,
        "period_end": line.period_end,
        "source": line.source,
    }


def test_the_overage_reason_in_words_from_the_rules_own_source():
    # Given the line the rule writes for 12.5 GB over a 100 GB cap at R10/GB in February
    [line] = overage_lines(_service(D("115200.000")), INVOICE)
    # Then the customer reads it in words
    assert (
        reason(_as_row(line))
        == "Out-of-bundle usage 1\u201328 Feb 2026: 12.500 GB over the 100 GB cap at R10.00/GB"
    )


def test_the_correction_reason_in_words():
    [line] = overage_lines(_service(D("0"), before=_january(120 * GB, billed="125.00")), INVOICE)
    assert reason(_as_row(line)) == (
        "Out-of-bundle usage correction for 1\u201331 Jan 2026: now 20.000 GB over the 100 GB cap"
        " at R10.00/GB (R200.00), R125.00 already billed"
    )
