"""The price-increase and end-of-term notices: what the customer reads."""

from __future__ import annotations

from isp_billing.notifications import templates as notification_templates


def test_the_price_increase_notice_names_the_prices_the_day_and_the_reason():
    email = notification_templates.render(
        "price_increase",
        {
            "package_name": "Fibre 50",
            "old_prices": ["699.00"],
            "new_price": "799.00",
            "effective_date": "2026-03-25",
            "reason": "Wholesale costs rose",
        },
    )
    assert "from R699.00 to R799.00 on 25 March 2026" in email.text
    assert "Wholesale costs rose" in email.text and email.html and "<p>" in email.html


def test_the_end_of_term_notice_says_when_and_what_happens_then():
    email = notification_templates.render(
        "term_ending",
        {
            "package_name": "Fibre 50",
            "term_end": "2028-02-29",
            "monthly_price_after": "749.00",
            "business_days_left": 60,
        },
    )
    assert "ends on 29 February 2028" in email.text
    assert "continues month to month at R749.00 a month" in email.text
    assert "no cancellation penalty" in email.text
