"""One domain error hierarchy. `web.py` maps it to RFC 9457 problem+json once; nothing else knows HTTP.

Messages are shown to callers: never put personal data, account numbers or secrets in them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PROBLEM_TYPE_BASE = "https://isp-billing.dev/problems/"


def problem_body(
    status: int, title: str, detail: str, slug: str, members: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem document; `members` add (or override) fields such as instance, request_id."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update(members or {})
    return body


class DomainError(Exception):
    """Base of every error the service layer raises on purpose."""

    status = 400
    title = "Bad request"
    type_slug = "bad-request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ValidationFailed(DomainError):
    status = 422
    title = "Validation failed"
    type_slug = "validation-failed"


class Unauthenticated(DomainError):
    status = 401
    title = "Unauthenticated"
    type_slug = "unauthenticated"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    type_slug = "conflict"


class InvalidState(Conflict):
    """An action the state machine does not allow from the current status (carries `current_status`)."""

    title = "Invalid state transition"
    type_slug = "invalid-state"


class JobAlreadyRunning(Conflict):
    title = "Job already running"
    type_slug = "job-already-running"


class JobLeaseLost(Conflict):
    """A run's lease expired and another run took over: the first one must stop writing."""

    title = "Job lease lost"
    type_slug = "job-lease-lost"


class JobFailed(DomainError):
    """A job run could do none of its work (e.g. every chunk failed); the run is logged as failed."""

    status = 500
    title = "Job failed"
    type_slug = "job-failed"


class RequestTooLarge(DomainError):
    status = 413
    title = "Request too large"
    type_slug = "request-too-large"


class ProviderError(DomainError):
    """A provider (NetCash, Interstellio) failed, timed out or answered something we cannot read."""

    status = 502
    title = "Provider error"
    type_slug = "provider-error"


class DatabaseUnavailable(DomainError):
    status = 503
    title = "Database unavailable"
    type_slug = "database-unavailable"


class ConfigurationError(Exception):
    """Settings are missing or invalid: the process must not start."""
