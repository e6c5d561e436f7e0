"""notification_templates/invoice_issued: the e-mail names the number, period, total, amount due, due date
and the PDF link, in text and in HTML (escaped)."""

from __future__ import annotations

from isp_billing.notifications import templates as notification_templates

DATA = {
    "invoice_id": "0b7e2f4c-0000-4000-8000-000000000001",
    "invoice_number": "INV-2026-00042",
    "invoice_date": "2026-02-25",
    "due_date": "2026-03-04",
    "period_start": "2026-02-25",
    "period_end": "2026-03-24",
    "total_amount": "1037.23",
    "amount_due": "1037.23",
    "first_name": "Thandi <b>",
    "account_number": "CUS-2026-00007",
    "pdf_link": "https://api.isp.example/api/customer/invoices/0b7e2f4c/pdf",
}


def test_the_text_names_every_fact_of_the_invoice():
    # When the template renders / Then the plain text has the facts and the link
    email = notification_templates.render("invoice_issued", DATA)
    for fact in (
        "Dear Thandi <b>,",
        "INV-2026-00042",
        "Period: 25 February 2026 to 24 March 2026",
        "Total: R1,037.23",
        "Amount due: R1,037.23",
        "Due date: 04 March 2026",
        DATA["pdf_link"],
        "CUS-2026-00007",
    ):
        assert fact in email.text


def test_the_html_escapes_what_it_prints():
    email = notification_templates.render("invoice_issued", DATA)
    assert email.html is not None
    assert "Thandi &lt;b&gt;" in email.html and "<b>," not in email.html
    assert f"href='{DATA['pdf_link']}'" in email.html


def test_without_a_name_or_period_it_still_renders():
    data = {key: value for key, value in DATA.items() if key not in ("first_name", "period_start")}
    email = notification_templates.render("invoice_issued", data)
    assert email.text.startswith("Hello,") and "Period:" not in email.text
