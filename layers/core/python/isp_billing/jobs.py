"""The job runner: one `cron_execution_log` row per run, one run of a job at a time, Lambda entry points.

A run holds a PostgreSQL session advisory lock named after the job on a connection of its own. A second
run (another Lambda, a manual trigger, the CLI) cannot take it and is refused with JobAlreadyRunning. The
lock dies with its connection, so a crashed run never blocks the next one; the next run marks the dead
run's `running` row as failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from isp_billing import auth, db
from isp_billing.clock import sast_today
from isp_billing.errors import DomainError, Forbidden, JobAlreadyRunning, ValidationFailed, problem_body
from isp_billing.observability import bind, log_failure, logger, metrics, per_request_log_context, traced
from isp_billing.repositories import admins, cron_log
from isp_billing.settings import get_settings

JOB_ADMIN_ROLES = ("super_admin", "billing_admin")


@dataclass
class JobRun:
    id: UUID
    job_name: str
    trigger: str
    options: dict[str, Any]


@dataclass
class JobOutcome:
    processed: int = 0
    failed: int = 0
    skipped: int = 0
    details: dict[str, Any] = field(default_factory=dict)


JobWork = Callable[[JobRun], JobOutcome]
# Validates (and may normalise) a run's options before anything is written; raises ValidationFailed.
OptionsParser = Callable[[dict[str, Any]], dict[str, Any]]


def run_job(
    job_name: str,
    work: JobWork,
    *,
    trigger: str = "schedule",
    triggered_by: UUID | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run `work` once under the job's lock and log it; returns the finished log row."""
    options = options or {}
    lock_conn = db.connect()
    try:
        lock_conn.execute("set role service_role")
        locked = lock_conn.execute(
            "select pg_try_advisory_lock(hashtext('isp_billing.job'), hashtext(%s)) as locked", (job_name,)
        ).fetchone()
        if not locked or not locked["locked"]:
            raise JobAlreadyRunning(
                f"The {job_name} job is already running; try again when it has finished.", job_name=job_name
            )
        cron_log.close_abandoned_runs(lock_conn, job_name)
        run_id = cron_log.start_run(
            lock_conn, job_name, trigger, triggered_by, sast_today(), {"options": options}
        )
        bind(job_name=job_name, job_run_id=str(run_id))
        logger.info("job started", extra={"trigger": trigger})
        try:
            outcome = work(JobRun(run_id, job_name, trigger, options))
        except Exception as error:
            # Only the class and a domain error's own message: other messages can carry row data.
            message = error.detail if isinstance(error, DomainError) else type(error).__name__
            cron_log.finish_run(lock_conn, run_id, "failed", 0, 0, 0, {}, message[:1000])
            log_failure("job failed", error)
            metrics.add_metric(name=f"{job_name}-failed", unit="Count", value=1)
            raise
        status = "partial" if outcome.failed else "completed"
        row = cron_log.finish_run(
            lock_conn,
            run_id,
            status,
            outcome.processed,
            outcome.failed,
            outcome.skipped,
            outcome.details,
            None,
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
        return row
    finally:
        lock_conn.close()  # also releases the advisory lock


# --- Lambda entry points ---------------------------------------------------------------------------------


def _is_scheduled_event(event: dict[str, Any]) -> bool:
    """EventBridge Scheduler / rules; anything else that is not HTTP is a direct invoke (CLI, console)."""
    return event.get("detail-type") == "Scheduled Event" or event.get("source") in (
        "aws.scheduler",
        "aws.events",
    )


def _is_http_event(event: dict[str, Any]) -> bool:
    return "httpMethod" in event or "routeKey" in event


def _manual_trigger_actor(event: dict[str, Any]) -> UUID | None:
    """Who may start a job by hand: the cron secret (None: no admin) or an admin of a job role."""
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    token = auth.bearer_token(headers.get("authorization"))
    if auth.is_cron_secret(token):
        return None
    claims = auth.verify_token(token)
    with db.service_session() as conn:
        row = admins.find_active_by_auth_user(conn, claims["sub"])
    if row is None:
        raise Forbidden("This user is not an active admin.")
    if row["role"] not in JOB_ADMIN_ROLES:
        raise Forbidden(f"The {row['role']} role may not start jobs.")
    return UUID(str(row["id"]))


def _http_response(status: int, body: dict[str, Any], request_id: str | None) -> dict[str, Any]:
    content_type = "application/json" if status < 400 else "application/problem+json"
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_type, "X-Request-Id": request_id or ""},
        "body": json.dumps(body, default=str),
    }


def _handle_http(
    job_name: str, work: JobWork, event: dict[str, Any], parse_options: OptionsParser | None = None
) -> dict[str, Any]:
    request_id = (event.get("requestContext") or {}).get("requestId")
    bind(correlation_id=request_id)
    try:
        actor = _manual_trigger_actor(event)
        try:
            options = json.loads(event.get("body") or "{}")
        except json.JSONDecodeError:
            options = None
        if not isinstance(options, dict):
            raise ValidationFailed("The body must be a JSON object of job options.")
        if parse_options is not None:
            options = parse_options(options)
        row = run_job(job_name, work, trigger="manual", triggered_by=actor, options=options)
        return _http_response(200, row, request_id)
    except DomainError as error:
        members = {"request_id": request_id, **error.extra}
        body = problem_body(error.status, error.title, error.detail, error.type_slug, members)
        return _http_response(error.status, body, request_id)


def job_handler(
    job_name: str, work: JobWork, *, parse_options: OptionsParser | None = None
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A job's Lambda handler: an EventBridge Scheduler event, a direct invoke, or POST /api/cron/<job>.

    `parse_options`, when given, validates the options first: invalid ones are refused (422 over HTTP)
    before the run is logged or started.
    """
    get_settings()  # fail the cold start, naming the variable, when configuration is missing

    @per_request_log_context
    @traced
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        event = event or {}
        if _is_http_event(event):
            return _handle_http(job_name, work, event, parse_options)
        detail = event.get("detail")
        options: dict[str, Any] = detail if isinstance(detail, dict) else {}
        if parse_options is not None:
            options = parse_options(options)
        trigger = "schedule" if _is_scheduled_event(event) else "manual"
        return run_job(job_name, work, trigger=trigger, options=options)

    return handler
