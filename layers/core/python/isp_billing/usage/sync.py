"""Job sync-usage-data: daily usage of every active or suspended service linked to Interstellio.

The run plans the syncable services into chunks (`USAGE_SYNC_CHUNK_SIZE`; fanned out over SQS above one
chunk). A chunk asks Interstellio for each service's SAST days (the last `USAGE_SYNC_DAYS`, or the run's
range; the client splits ranges over 128 days), outside any transaction (a read has no effect to
reconcile), then writes the whole chunk in one transaction through usage_ingest (one COPY, one upsert, the
cap alerts). A provider error for one subscriber (429, 5xx, timeout, after the client's retries) counts that
service failed and the others go on; a subscriber Interstellio does not know, or a reply we cannot read,
becomes one `usage_ingest` validation error. A chunk where every call failed raises (Interstellio is down:
SQS retries it, then the DLQ), so a run where nothing could be read ends `failed`, not `partial`.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any, Self

from pydantic import Field, model_validator

from isp_billing import db
from isp_billing.api_models import IsoDate
from isp_billing.clock import sast_today
from isp_billing.errors import JobFailed, ProviderError
from isp_billing.jobs import JobOptions, JobOutcome, JobRun, merge_details, split_into_chunks
from isp_billing.observability import logger
from isp_billing.providers.interstellio import SubscriberProvider
from isp_billing.settings import get_settings
from isp_billing.usage import ingest as usage_ingest
from isp_billing.usage import sql as usage
from isp_billing.usage.sql import UsageRow

JOB_NAME = "sync-usage-data"
MAX_RANGE_DAYS = 731  # two years a run; Interstellio keeps five, a longer back-fill is several runs


class SyncUsageOptions(JobOptions):
    """Both optional (default: the last USAGE_SYNC_DAYS SAST days, today included); any other field 422."""

    start_date: IsoDate | None = Field(default=None, description="First SAST day to sync (needs end_date).")
    end_date: IsoDate | None = Field(default=None, description="Last SAST day to sync, not after today.")

    @model_validator(mode="after")
    def _a_real_range(self) -> Self:
        if (self.start_date is None) != (self.end_date is None):
            raise ValueError("start_date and end_date go together")
        if self.start_date is not None and self.end_date is not None:
            if self.end_date < self.start_date:
                raise ValueError("end_date must not be before start_date")
            if self.end_date > sast_today():
                raise ValueError("end_date must not be in the future")
            if (self.end_date - self.start_date).days + 1 > MAX_RANGE_DAYS:
                raise ValueError(f"a run syncs at most {MAX_RANGE_DAYS} days")
        return self

    def window(self) -> tuple[date, date]:
        if self.start_date is not None and self.end_date is not None:
            return self.start_date, self.end_date
        today = sast_today()
        return today - timedelta(days=get_settings().usage_sync_days - 1), today


def plan(run: JobRun) -> list[list[str]]:
    first, last = SyncUsageOptions.of(run.options).window()
    with db.service_session() as conn:
        service_ids = usage.syncable_service_ids(conn)
        merge_details(
            conn, run.id, {"first_day": str(first), "last_day": str(last), "services": len(service_ids)}
        )
    logger.info("usage sync planned", extra={"services": len(service_ids)})
    return split_into_chunks(service_ids, run.chunk_size or get_settings().usage_sync_chunk_size)


def sync_chunk(run: JobRun, items: list[str], provider: SubscriberProvider) -> JobOutcome:
    first, last = SyncUsageOptions.of(run.options).window()
    with db.service_session() as conn:
        services = usage.services_for_sync(conn, items)
    rows: list[UsageRow] = []
    problems: list[dict[str, Any]] = []
    outcome = JobOutcome(skipped=len(items) - len(services))
    unavailable = 0
    deadline = time.monotonic() + get_settings().usage_sync_chunk_budget_seconds
    for service in services:
        if time.monotonic() > deadline:
            # Out of time (Interstellio slow for many): the rest count failed; the next run re-reads the days.
            outcome.failed += 1
            unavailable += 1
            continue
        try:
            days = provider.daily_usage(service["subscriber_id"], first, last)
        except ProviderError as error:
            code = error.extra.get("code")
            problem = _problem(service, code, error)
            if problem is not None:
                problems.append(problem)
            if code == "subscriber_not_found":
                outcome.skipped += 1
            else:
                outcome.failed += 1
                unavailable += problem is None
            logger.warning(
                "usage sync: subscriber failed", extra={"service_id": str(service["id"]), "code": code}
            )
            continue
        rows.extend((service["id"], day.usage_date, day.upload_mb, day.download_mb) for day in days)
        outcome.processed += 1
    if services and unavailable == len(services):
        raise JobFailed(f"Interstellio answered no usage for any of the chunk's {len(services)} services.")
    with db.service_session() as conn:
        written = usage_ingest.write_usage(conn, rows, problems)
    outcome.details = {
        "usage_rows": written.rows_written,
        "validation_errors": written.problems_recorded,
        "cap_alerts": written.alerts_queued,
    }
    return outcome


def _problem(service: dict[str, Any], code: Any, error: ProviderError) -> dict[str, Any] | None:
    """The validation error a failed subscriber leaves for a person (None: transient, next run retries)."""
    base = {"record_type": "service", "record_id": service["id"], "record_ref": service["subscriber_id"]}
    if code == "subscriber_not_found":
        return {
            **base,
            "error_code": "unknown_subscriber",
            "message": "Interstellio does not know this service's subscriber id.",
            "suggested_fix": "Fix the service's interstellio_subscriber_id; remove it if the line is gone.",
            "payload": {
                "service_id": str(service["id"]),
                "provider_request_id": error.extra.get("provider_request_id"),
            },
        }
    if code == "malformed":
        return {
            **base,
            "error_code": "malformed_usage",
            "message": "Interstellio's daily usage reply for this subscriber could not be read.",
            "suggested_fix": "Ask Interstellio about the reply; the next run reads the days again.",
            "payload": {"service_id": str(service["id"]), "detail": error.detail[:300]},
        }
    return None
