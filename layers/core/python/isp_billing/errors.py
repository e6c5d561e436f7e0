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


class StatementTimeout(DomainError):
    """The database cancelled a statement that ran past its timeout, or could not get a lock in time."""

    status = 503
    title = "Request took too long"
    type_slug = "took-too-long"


class UnexpectedError(DomainError):
    """Anything not raised on purpose: answered 500 through the same mapping (logged by class only)."""

    status = 500
    title = "Internal error"
    type_slug = "server-error"


# SQLSTATEs with an answer of their own (duck-typed: only repositories import psycopg).
UNIQUE_VIOLATION = "23505"
QUERY_CANCELED = "57014"  # statement_timeout (or a cancel request)
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout


def from_database_error(error: BaseException) -> DomainError | None:
    """The answer for a database error that is the caller's to hear about, else None.

    A unique violation anywhere is 409 naming the constraint (its name, never the DETAIL line, which carries
    the row's values); a statement or lock timeout is 503 "took too long", distinct from "database not
    reachable", so a caller (and the alarm) can tell load from an outage.
    """
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate == UNIQUE_VIOLATION:
        constraint = getattr(getattr(error, "diag", None), "constraint_name", None)
        return Conflict(
            "This conflicts with an existing record: the same value is already taken.",
            reason="unique_violation",
            constraint=constraint,
        )
    if sqlstate in (QUERY_CANCELED, LOCK_NOT_AVAILABLE):
        return StatementTimeout(
            "The database took too long to answer this request; try again shortly.",
            reason="statement_timeout" if sqlstate == QUERY_CANCELED else "lock_timeout",
        )
    return None


class ConfigurationError(Exception):
    """Settings are missing or invalid: the process must not start."""
