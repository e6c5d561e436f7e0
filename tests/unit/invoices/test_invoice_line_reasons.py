"""The customer-readable reason of each kind of invoice line, from the source the billing run writes."""

from __future__ import annotations

from datetime import date

import pytest

from isp_billing.invoices.line_reasons import reason, span

D = "\u2013"  # the en dash of a printed date range


def _line(source, *, start="2026-02-25", end="2026-03-24", amount="699.00", description="Fibre 50/50"):
    return {
        "description": description,
        "amount": amount,
        "period_start": date.fromisoformat(start) if start else None,
        "period_end": date.fromisoformat(end) if end else None,
        "source": source,
    }


CASES = {
    "recurring": (
        _line({"rule": "recurring", "monthly_price": "699.00", "days_in_period": 28}),
        f"Monthly charge for 25 Feb{D}24 Mar 2026: R699.00",
    ),
    "activation pro-rata (the domain's example)": (
        _line(
            {
                "rule": "activation_pro_rata",
                "days_in_period": 31,
                "segments": [
                    {"from": "2026-02-10", "to": "2026-02-24", "billable_days": 15, "monthly_price": "699.00"}
                ],
            },
            start="2026-02-10",
            end="2026-02-24",
            amount="338.23",
        ),
        f"Pro-rata 10{D}24 Feb 2026: 15 of 31 days of R699.00",
    ),
    "pro-rata across a price change": (
        _line(
            {
                "rule": "activation_pro_rata",
                "days_in_period": 31,
                "segments": [
                    {"from": "2026-02-10", "to": "2026-02-14", "billable_days": 5, "monthly_price": "699.00"},
                    {
                        "from": "2026-02-15",
                        "to": "2026-02-24",
                        "billable_days": 10,
                        "monthly_price": "899.00",
                    },
                ],
            },
            start="2026-02-10",
            end="2026-02-24",
        ),
        f"Pro-rata 10{D}24 Feb 2026: 10{D}14 Feb 2026: 5 of 31 days of R699.00; "
        f"15{D}24 Feb 2026: 10 of 31 days of R899.00",
    ),
    "reactivation pro-rata": (
        _line(
            {
                "rule": "reactivation_pro_rata",
                "days_in_period": 31,
                "segments": [
                    {"from": "2026-02-20", "to": "2026-02-24", "billable_days": 5, "monthly_price": "699.00"}
                ],
            },
            start="2026-02-20",
            end="2026-02-24",
        ),
        f"Pro-rata after reactivation 20{D}24 Feb 2026: 5 of 31 days of R699.00",
    ),
    "final period": (
        _line(
            {
                "rule": "final_period_pro_rata",
                "monthly_price": "699.00",
                "days_used": 10,
                "days_in_period": 28,
            },
            end="2026-03-06",
        ),
        f"Final period 25 Feb{D}6 Mar 2026 (service cancelled): 10 of 28 days of R699.00",
    ),
    "price change": (
        _line(
            {
                "rule": "price_change_pro_rata",
                "old_price": "699.00",
                "new_price": "899.00",
                "days": 15,
                "days_in_period": 31,
            },
            start="2026-02-10",
            end="2026-02-24",
        ),
        f"Upgrade from R699.00 to R899.00 for 10{D}24 Feb 2026: 15 of 31 days of the R200.00 difference",
    ),
    "cancellation credit": (
        _line(
            {
                "rule": "cancellation_credit",
                "invoiced_price": "699.00",
                "unused_days": 14,
                "days_in_period": 31,
            },
            start="2026-02-11",
            end="2026-02-24",
            amount="-315.68",
        ),
        f"Credit for 11{D}24 Feb 2026 after cancellation: 14 of 31 days of R699.00",
    ),
    "suspension credit": (
        _line(
            {"rule": "suspension_credit", "invoiced_price": "699.00", "paused_days": 7, "days_in_period": 31},
            start="2026-01-28",
            end="2026-02-03",
        ),
        f"Credit for 28 Jan{D}3 Feb 2026 while suspended at your request: 7 of 31 days of R699.00",
    ),
    "once-off charge": (
        _line(
            {"rule": "once_off_charge", "due_date": "2026-02-20"}, start=None, end=None, description="Router"
        ),
        "Once-off charge: Router (due 20 Feb 2026)",
    ),
    "account credit applied": (
        _line({"rule": "credit_balance_applied", "credit_balance_before": "150.00"}, amount="-100.00"),
        "Account credit applied: R100.00 of your R150.00 credit",
    ),
    "excess credit carried": (
        _line({"rule": "excess_credit_to_balance", "credits_exceeding_charges": "50.00"}, amount="50.00"),
        "Credits exceeded charges by R50.00: carried to your account credit",
    ),
    "credit note line": (
        _line(
            {
                "rule": "credit_note",
                "invoice_number": "INV-2026-00001",
                "reason": "Outage on 3 Feb",
                "credited_description": "Fibre 50/50",
            },
            amount="-100.00",
        ),
        "Credit note on invoice INV-2026-00001 (Fibre 50/50): Outage on 3 Feb",
    ),
    "legacy line without a source": (_line({}, description="Imported: March"), "Imported: March"),
    "an older source missing a figure": (_line({"rule": "recurring"}), "Fibre 50/50"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_line_kind_reads_as_a_sentence(case):
    # Given a line as the run (or a credit note) writes it / When its reason is built / Then it reads so
    line, expected = CASES[case]
    assert reason(line) == expected


def test_spans_across_months_and_years():
    assert span(date(2025, 12, 25), date(2026, 1, 24)) == f"25 Dec 2025{D}24 Jan 2026"
    assert span(date(2026, 3, 1), date(2026, 3, 1)) == "1 Mar 2026"
