"""The invoice cannot be debited (above the mandate amount or the per-item limit): please pay by EFT."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from isp_billing.notifications.templates import Email

_WHY = {
    "above_mandate_amount": "is more than the R{mandate_amount} your debit order mandate allows",
    "above_item_limit": "is more than we may collect in a single debit order",
}


def render(data: Mapping[str, Any]) -> Email:
    why = _WHY.get(str(data.get("reason")), "cannot be collected by debit order").format(
        mandate_amount=data.get("mandate_amount", "")
    )
    number, amount, due = data["invoice_number"], data["amount_due"], data["due_date"]
    text = (
        f"Invoice {number} for R{amount} {why}, so we will not debit your account for it.\n\n"
        f"Please pay R{amount} by EFT by {due}, using {number} as the payment reference. Our bank details "
        "are on the invoice.\n\n"
        "If you would like us to collect larger amounts by debit order, reply to this e-mail and we will "
        "send you a new mandate to sign."
    )
    html = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in text.split("\n\n"))
    return Email(text=text, html=html)
