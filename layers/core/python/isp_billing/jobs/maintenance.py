"""Housekeeping jobs."""

from __future__ import annotations

from isp_billing import db
from isp_billing import idempotency_sql as idempotency
from isp_billing.jobs import JobOutcome, JobRun


def purge_expired_idempotency_keys(run: JobRun) -> JobOutcome:
    """Stored responses for idempotent requests are kept until they expire, then deleted in one statement."""
    with db.service_session() as conn:
        deleted = idempotency.purge_expired(conn)
    return JobOutcome(processed=deleted, details={"deleted": deleted})
