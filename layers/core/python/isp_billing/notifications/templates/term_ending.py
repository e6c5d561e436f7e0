"""A fixed-term contract ends soon (CPA s14(2)(c)): the day, and what happens unless the customer acts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from html import escape
from typing import Any

from isp_billing.notifications.templates import Email


def render(data: Mapping[str, Any]) -> Email:
    end = date.fromisoformat(data["term_end"])
    text = (
        f"The fixed term of your {data['package_name']} contract ends on {end:%d %B %Y}.\n\n"
        "Unless you tell us otherwise, the service then continues month to month at"
        f" R{data['monthly_price_after']} a month, with no other change, and you may cancel it at any time"
        " with a month's notice and no cancellation penalty.\n\n"
        "If you would like to end the service on that day, or sign up again for a new fixed term, reply to"
        " this e-mail or contact us before then."
    )
    html = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in text.split("\n\n"))
    return Email(text=text, html=html)
