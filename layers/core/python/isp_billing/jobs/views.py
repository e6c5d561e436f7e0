"""GET /api/admin/cron/logs and /api/admin/cron/jobs: what ran, and whether each job runs when it should."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

from isp_billing.clock import sast_now
from isp_billing.db import Connection
from isp_billing.jobs import views_sql as cron_views
from isp_billing.jobs.cron_schedule import Schedule
from isp_billing.jobs.schedules import JOBS
from isp_billing.jobs.views_models import JobChunk, JobHealth, JobRunWithChunks
from isp_billing.pagination import Page, decode_cursor, page_of

# A scheduled start counts as missed when no successful run began within this tolerance before it and the
# grace period has passed (runs take minutes; a retry by the scheduler lands well within the hour).
EARLY_TOLERANCE = timedelta(minutes=5)
GRACE = timedelta(hours=1)


def list_runs(
    conn: Connection,
    *,
    job_name: str | None,
    status: str | None,
    since: date | None,
    until: date | None,
    cursor: str | None,
    limit: int,
) -> Page[JobRunWithChunks]:
    after = decode_cursor(cursor, datetime.fromisoformat, UUID) if cursor else None
    rows = cron_views.list_runs(
        conn, job_name=job_name, status=status, since=since, until=until, limit=limit, after=after
    )
    items, next_cursor = page_of(rows, limit, lambda row: (row["execution_start"], row["id"]))
    parents = [row["id"] for row in items if row["chunks"]]
    chunks: dict[UUID, list[JobChunk]] = {}
    for chunk in cron_views.chunks_of(conn, parents) if parents else []:
        chunks.setdefault(chunk["parent_run_id"], []).append(JobChunk.model_validate(chunk))
    return Page(
        items=[
            JobRunWithChunks.model_validate(
                {**row, "chunk_counts": row["chunks"], "chunks": chunks.get(row["id"], [])}
            )
            for row in items
        ],
        next_cursor=next_cursor,
    )


def jobs(conn: Connection) -> list[JobHealth]:
    now = sast_now()
    runs = {row["job_name"]: row for row in cron_views.last_runs(conn)}
    health = []
    for job in JOBS:
        run = runs.get(job.job_name, {})
        next_due = missed_due = None
        if job.expression:
            schedule = Schedule(job.expression, job.timezone)
            next_due = schedule.next_after(now)
            missed_due = schedule.last_at_or_before(now - GRACE)
        last_success = run.get("last_success_at")
        missed = missed_due is not None and (
            last_success is None or last_success < missed_due - EARLY_TOLERANCE
        )
        health.append(
            JobHealth(
                job_name=job.job_name,
                function=job.function,
                schedule=job.expression,
                timezone=job.timezone,
                route=job.route,
                last_run_at=run.get("last_run_at"),
                last_status=run.get("last_status"),
                last_success_at=last_success,
                next_due_at=next_due,
                missed=missed,
            )
        )
    return health
