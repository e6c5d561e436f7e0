"""A debit order came back unpaid (or a paid one was reversed): what happened and how to pay by EFT."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from isp_billing.notifications.templates import Email


def render(data: Mapping[str, Any]) -> Email:
    number, amount = data["invoice_number"], data["amount"]
    reason = str(data.get("reason") or "the bank returned it").lower()
    happened = (
        f"The R{amount} we collected for invoice {number} was reversed by your bank ({reason})."
        if data.get("reversed")
        else f"Your bank did not pay the R{amount} debit order for invoice {number} ({reason})."
    )
    if data.get("needs_new_mandate"):
        next_step = (
            "We will not debit this account again. To keep paying by debit order, please sign a new "
            "mandate from your account page."
        )
    else:
        next_step = "We will try again on your next debit order date; we never debit twice in one month."
    text = (
        f"{happened}\n\n"
        f"To avoid your service being suspended, please pay R{amount} by EFT now, using {number} as the "
        "payment reference. Our bank details are on the invoice.\n\n"
        f"{next_step}"
    )
    html = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in text.split("\n\n"))
    return Email(text=text, html=html)
