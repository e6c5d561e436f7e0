"""Services suspended for non-payment: what is owed, how to pay, and that paying restores the service."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from isp_billing.notifications.templates import Email


def render(data: Mapping[str, Any]) -> Email:
    amount, numbers = data["overdue_amount"], data["invoice_numbers"]
    text = (
        f"We have suspended your internet service because R{amount} is overdue (invoice {numbers}).\n\n"
        "Please pay by EFT, using the invoice number as the payment reference; our bank details are on the "
        "invoice. Your service is switched back on automatically once the overdue amount is paid.\n\n"
        "If you have already paid, please reply with your proof of payment."
    )
    html = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in text.split("\n\n"))
    return Email(text=text, html=html)
