"""A payment arrived for an invoice that was already settled: the money is held as credit on the account."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from isp_billing.notifications.templates import Email


def render(data: Mapping[str, Any]) -> Email:
    amount, number = data["amount"], data.get("invoice_number")
    about = f" for invoice {number}" if number else ""
    text = (
        f"We received R{amount}{about}, which was already settled.\n\n"
        "The money is held as credit on your account: it is applied to your next invoice, or we can pay it "
        "back to you. Please reply to this e-mail if you would like a refund."
    )
    html = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in text.split("\n\n"))
    return Email(text=text, html=html)
