"""Time in the business's zone: Africa/Johannesburg (SAST, UTC+2, no daylight saving)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

SAST = ZoneInfo("Africa/Johannesburg")


def sast_now() -> datetime:
    return datetime.now(SAST)


def sast_today() -> date:
    """'Today' for a job and for billing dates."""
    return sast_now().date()
