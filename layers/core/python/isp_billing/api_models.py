"""Values shared by API models."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

ServiceStatus = Literal["pending", "active", "suspended", "cancelled"]
ServiceType = Literal["fibre", "lte", "wireless"]


class ApiModel(BaseModel):
    """Response models: built from repository rows (dicts) and closed to unknown fields."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")


class RequestModel(BaseModel):
    """Request bodies: unknown fields are refused with 422, never silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# Dates and instants in requests (bodies, queries, paths, job options) are ISO 8601 strings and nothing else:
# pydantic would also read a number (or a string of digits) as a Unix timestamp, so `date_to=0` or
# `{"run_date": "0"}` would mean 1970-01-01. Every date or date-time a request carries is one of these.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?")
ISO_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
ISO_DATE_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # built in code, not read from a request
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be an ISO 8601 date string, YYYY-MM-DD (a number is not a date)")
    return date.fromisoformat(value)  # a day that does not exist (2026-02-30) is a ValueError too


def _iso_date_time(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE_TIME.fullmatch(value):
        raise ValueError(
            "must be an ISO 8601 date-time string, e.g. 2026-12-07T09:30:00+02:00 "
            "(a number is not an instant)"
        )
    return datetime.fromisoformat(value)


IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": ISO_DATE_PATTERN}, mode="validation"),
]
IsoDateTime = Annotated[
    datetime,
    BeforeValidator(_iso_date_time),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "pattern": ISO_DATE_TIME_PATTERN}, mode="validation"
    ),
]
