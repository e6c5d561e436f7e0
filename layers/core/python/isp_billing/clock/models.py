"""The movable clock's admin route (not in production)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field, StrictBool

from isp_billing.api_models import ApiModel, IsoDate, IsoDateTime, RequestModel


class MoveClockRequest(RequestModel):
    now: IsoDateTime | None = Field(
        default=None, description="Move to this instant (ISO 8601; naive = SAST)."
    )
    today: IsoDate | None = Field(
        default=None, description="Move to this SAST date, keeping the time of day."
    )
    reset: StrictBool = Field(default=False, description="Back to the real time.")


class ClockReading(ApiModel):
    now: datetime = Field(description="The clock's instant, SAST.")
    today: date = Field(description="The clock's SAST date (what jobs bill).")
    moved: bool = Field(description="Whether the clock is moved off the real time.")
