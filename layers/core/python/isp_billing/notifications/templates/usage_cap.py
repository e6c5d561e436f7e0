"""A capped service used 80% or 100% of its data cap this billing period (queued by services/usage_ingest)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from html import escape
from typing import Any

from isp_billing.notifications.templates import Email


def render(data: Mapping[str, Any]) -> Email:
    package = str(data.get("package_name", "your"))
    threshold = int(data.get("threshold_percent", 100))
    cap = data.get("data_cap_gb")
    used_gb = (Decimal(str(data.get("used_mb", "0"))) / 1024).quantize(Decimal("0.1"))
    period = f"{data.get('period_start')} to {data.get('period_end')}"
    if threshold >= 100:
        headline = f"Your {package} service has used its full {cap} GB data cap for {period}."
    else:
        headline = f"Your {package} service has used {threshold}% of its {cap} GB data cap for {period}."
    detail = f"Used so far: {used_gb} GB ({data.get('percent_used')}%)."
    footer = "You can see your daily usage on your dashboard. Usage resets at the start of your next period."
    text = f"{headline}\n\n{detail}\n\n{footer}\n"
    html = f"<p>{escape(headline)}</p><p>{escape(detail)}</p><p>{escape(footer)}</p>"
    return Email(text=text, html=html)
