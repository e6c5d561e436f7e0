"""The job runner: one `cron_execution_log` row per run, one live run of a job at a time, Lambda entry points.

Single run without session state (a transaction pooler would leave a session lock on whichever server
connection took it): starting a run is ONE transaction that takes a transaction-level advisory lock named
after the job, closes a `running` row whose lease has passed as failed (abandoned), and inserts the new
`running` row with a lease (`lease_expires_at`). The partial unique index on running rows per job refuses a
second live run: JobAlreadyRunning (409). The lease is at least the function's timeout (`job_lease_seconds`),
so a run Lambda is still executing never loses it; work that can outlast it (the CLI, fan-out parents whose
chunks run later) renews it with `JobRun.renew_lease()` between batches. A crashed run blocks the next one
for at most its lease. Every write goes through the normal service sessions; nothing holds a connection.

Jobs declare their options as a pydantic model (`options_model`): only declared options are stored and
echoed. The HTTP side (authentication first, body limits, problem+json) is in `jobs.http`; the SQS fan-out
of big runs into chunks is in `jobs.fanout` (`chunked_job_handler`); the package re-exports both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from isp_billing import db
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import DomainError, JobAlreadyRunning, JobLeaseLost
from isp_billing.jobs import http as job_http
from isp_billing.jobs import log_sql as cron_log
from isp_billing.jobs import metrics as job_metrics
from isp_billing.jobs.models import NoOptions
from isp_billing.observability import bind, log_failure, logger, metrics, per_request_log_context, traced
from isp_billing.settings import get_settings

__all__ = [
    "JobOutcome",
    "JobRun",
    "JobWork",
    "NoOptions",
    "job_handler",
    "run_from_event",
    "run_job",
    "split_into_chunks",
]


@dataclass
class JobRun:
    id: UUID
    job_name: str
    trigger: str
    options: dict[str, Any]
    # How many work items a chunk holds (chunked jobs: the planner splits its items by it).
    chunk_size: int = 0

    def renew_lease(self, conn: Connection | None = None) -> None:
        """Extend this run's lease (call it between batches). Raises JobLeaseLost when the run was taken
        over (its lease had expired and another run closed it): the work must stop.

        Pass `conn` when calling inside one of the work's own sessions (the renewal then commits with it);
        keep that transaction short: the run's row stays locked until it ends, and a second run's start
        waits on that lock.
        """
        seconds = get_settings().job_lease_seconds
        if conn is not None:
            renewed = cron_log.renew_lease(conn, self.id, seconds)
        else:
            with db.service_session() as session:
                renewed = cron_log.renew_lease(session, self.id, seconds)
        if not renewed:
            raise JobLeaseLost(
                f"The {self.job_name} run lost its lease (another run took over); it stops here.",
                job_name=self.job_name,
            )


@dataclass
class JobOutcome:
    processed: int = 0
    failed: int = 0
    skipped: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    # The run goes on elsewhere (its chunks are queued): its row stays `running`; the chunks close it.
    continues: bool = False


JobWork = Callable[[JobRun], JobOutcome]


def start_run(
    job_name: str, trigger: str, triggered_by: UUID | None, options: dict[str, Any], chunk_size: int = 0
) -> JobRun:
    """Insert the run's `running` row with a lease, in one transaction, or raise JobAlreadyRunning."""
    settings = get_settings()
    with db.service_session() as conn:
        cron_log.lock_job(conn, job_name)
        cron_log.close_expired_runs(conn, job_name)
        run_id = cron_log.start_run(
            conn,
            job_name,
            trigger,
            triggered_by,
            sast_today(),
            {"options": options},
            settings.job_lease_seconds,
        )
    if run_id is None:
        raise JobAlreadyRunning(
            f"The {job_name} job is already running; try again when it has finished.", job_name=job_name
        )
    return JobRun(run_id, job_name, trigger, options, chunk_size)


def run_job(
    job_name: str,
    work: JobWork,
    *,
    trigger: str = "schedule",
    triggered_by: UUID | None = None,
    options: dict[str, Any] | None = None,
    chunk_size: int = 0,
) -> dict[str, Any]:
    """Run `work` once as the job's live run and log it; returns the run's log row."""
    run = start_run(job_name, trigger, triggered_by, options or {}, chunk_size)
    bind(job_name=job_name, job_run_id=str(run.id))
    logger.info("job started", extra={"trigger": trigger})
    try:
        with db.batch_work():
            outcome = work(run)
    except Exception as error:
        # Only the class and a domain error's own message: other messages can carry row data.
        message = error.detail if isinstance(error, DomainError) else type(error).__name__
        with db.service_session() as conn:
            failed_row = cron_log.finish_run(conn, run.id, "failed", 0, 0, 0, {}, message[:1000])
        job_metrics.record_run(failed_row)
        log_failure("job failed", error)
        metrics.add_metric(name=f"{job_name}-failed", unit="Count", value=1)
        raise
    if outcome.continues:
        with db.service_session() as conn:
            row = cron_log.merge_details(conn, run.id, outcome.details)
        logger.info("job fanned out", extra={"chunks": outcome.details.get("chunks")})
        return row
    status = "partial" if outcome.failed else "completed"
    with db.service_session() as conn:
        row = cron_log.finish_run(
            conn, run.id, status, outcome.processed, outcome.failed, outcome.skipped, outcome.details, None
        )
    logger.info(
        "job finished",
        extra={
            "status": status,
            "processed": outcome.processed,
            "failed": outcome.failed,
            "skipped": outcome.skipped,
        },
    )
    metrics.add_metric(name=f"{job_name}-processed", unit="Count", value=outcome.processed)
    job_metrics.record_run(row)
    return row


# --- Lambda entry points ---------------------------------------------------------------------------------


def _is_scheduled_event(event: dict[str, Any]) -> bool:
    """EventBridge Scheduler / rules; anything else that is not HTTP is a direct invoke (CLI, console)."""
    return event.get("detail-type") == "Scheduled Event" or event.get("source") in (
        "aws.scheduler",
        "aws.events",
    )


def run_from_event(
    job_name: str,
    work: JobWork,
    options_model: type[BaseModel],
    event: dict[str, Any],
    chunk_size: int = 0,
) -> dict[str, Any]:
    """A schedule event (its `detail` holds the options) or a direct invoke (the event is the options, or
    its `detail`). Invalid options raise ValidationFailed before anything is written."""
    detail = event.get("detail") if "detail" in event else event
    options = job_http.parse_options(options_model, detail if isinstance(detail, dict) else {})
    trigger = "schedule" if _is_scheduled_event(event) else "manual"
    return run_job(job_name, work, trigger=trigger, options=options, chunk_size=chunk_size)


def job_handler(
    job_name: str, work: JobWork, *, options_model: type[BaseModel] = NoOptions
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A job's Lambda handler: an EventBridge Scheduler event, a direct invoke, or POST /api/cron/<job>.

    `options_model` declares the job's options (extra="forbid", strict types; `NoOptions` when it has
    none): invalid ones are refused (422 over HTTP) before the run is logged or started.
    """
    get_settings()  # fail the cold start, naming the variable, when configuration is missing

    def start(options: dict[str, Any], actor: UUID | None) -> dict[str, Any]:
        return run_job(job_name, work, trigger="manual", triggered_by=actor, options=options)

    @per_request_log_context
    @traced
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        event = event or {}
        if job_http.is_http_event(event):
            return job_http.handle(event, options_model, start)
        return run_from_event(job_name, work, options_model, event)

    handler.job_name = job_name  # type: ignore[attr-defined]  # read by the OpenAPI export
    handler.options_model = options_model  # type: ignore[attr-defined]
    return handler


def split_into_chunks(items: list[str], size: int) -> list[list[str]]:
    """Items in order, `size` per chunk (the last may be shorter); no chunk when there are no items."""
    step = max(1, size)
    return [items[start : start + step] for start in range(0, len(items), step)]
