"""The e-mail that goes with a new tax invoice (queued by the billing run, repositories/invoice_documents)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from html import escape
from typing import Any

from isp_billing.notifications.templates import Email


def _day(value: Any) -> str:
    return f"{date.fromisoformat(str(value)):%d %B %Y}"


def _rand(value: Any) -> str:
    return f"R{Decimal(str(value)):,.2f}"


def render(data: Mapping[str, Any]) -> Email:
    number = str(data["invoice_number"])
    greeting = f"Dear {data['first_name']}," if data.get("first_name") else "Hello,"
    facts = [
        ("Invoice", number),
        ("Total", _rand(data["total_amount"])),
        ("Amount due", _rand(data.get("amount_due", data["total_amount"]))),
        ("Due date", _day(data["due_date"])),
    ]
    if data.get("period_start") and data.get("period_end"):
        facts.insert(1, ("Period", f"{_day(data['period_start'])} to {_day(data['period_end'])}"))
    link = str(data["pdf_link"])
    reference = data.get("account_number")
    pay = (
        f"Debit order customers need do nothing. To pay by EFT, use your account number {reference} as "
        "the reference."
        if reference
        else "Debit order customers need do nothing."
    )
    text = "\n".join(
        [
            greeting,
            "",
            f"Your tax invoice {number} is ready.",
            "",
            *(f"{label}: {value}" for label, value in facts),
            "",
            f"Download it (sign in first): {link}",
            "The PDF is attached to this e-mail as well.",
            "",
            pay,
        ]
    )
    rows = "".join(
        f"<tr><th align='left'>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in facts
    )
    html = (
        f"<p>{escape(greeting)}</p><p>Your tax invoice <strong>{escape(number)}</strong> is ready.</p>"
        f"<table>{rows}</table>"
        f"<p><a href='{escape(link, quote=True)}'>Download the PDF</a> (sign in first);"
        " it is attached too.</p>"
        f"<p>{escape(pay)}</p>"
    )
    return Email(text=text, html=html)
