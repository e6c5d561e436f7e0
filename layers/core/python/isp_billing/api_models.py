"""Values shared by API models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

ServiceStatus = Literal["pending", "active", "suspended", "cancelled"]
ServiceType = Literal["fibre", "lte", "wireless"]


class ApiModel(BaseModel):
    """Response models: built from repository rows (dicts) and closed to unknown fields."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")


class RequestModel(BaseModel):
    """Request bodies: unknown fields are refused with 422, never silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
