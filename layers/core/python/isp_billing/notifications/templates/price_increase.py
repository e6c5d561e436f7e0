"""A package's price changes for its subscribers: the new price, from when, and that they may cancel."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from html import escape
from typing import Any

from isp_billing.notifications.templates import Email


def render(data: Mapping[str, Any]) -> Email:
    day = date.fromisoformat(data["effective_date"])
    old = " / ".join(f"R{price}" for price in data["old_prices"])
    text = (
        f"The monthly price of your {data['package_name']} service changes from {old} to R{data['new_price']}"
        f" on {day:%d %B %Y}.\n\n"
        f"Why: {data['reason']}\n\n"
        "Your invoice shows the new price from that day, pro-rated for the part of the month it covers. "
        "You do not need to do anything. If you would rather change package or cancel, reply to this e-mail "
        "or contact us before that date."
    )
    html = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in text.split("\n\n"))
    return Email(text=text, html=html)
