"""Admin views of the jobs: runs (cron_execution_log) and each job's schedule and health."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from isp_billing.api_models import ApiModel

RunStatus = Literal["running", "completed", "partial", "failed", "cancelled"]


class JobRunEntry(ApiModel):
    id: UUID = Field(description="The run's id.")
    job_name: str = Field(description="The job.")
    trigger: Literal["schedule", "manual", "chunk"] = Field(description="How it started.")
    triggered_by: UUID | None = Field(description="The admin who started it by hand (null: schedule/cron).")
    triggered_by_name: str | None = Field(description="That admin's name.")
    run_date: date | None = Field(description="The SAST date of the run.")
    execution_start: datetime = Field(description="Start (ISO 8601 instant).")
    execution_end: datetime | None = Field(description="End; null while running.")
    duration_seconds: Decimal | None = Field(description="End minus start, in seconds.")
    status: RunStatus = Field(description="running, completed, partial, failed or cancelled.")
    records_processed: int = Field(description="Records done.")
    records_failed: int = Field(description="Records that failed (see validation_errors).")
    records_skipped: int = Field(description="Records skipped.")
    error_message: str | None = Field(description="Why it failed (an error class or a domain message).")
    details: dict[str, Any] = Field(description="The job's own counts and options.")
    parent_id: UUID | None = Field(description="A chunk's parent run.")


class JobChunk(ApiModel):
    chunk_no: int = Field(description="The chunk's number in its run, from 0.")
    status: Literal["pending", "done", "failed"] = Field(
        description="pending (queued or in flight), done, failed."
    )
    items: int = Field(description="Work items (e.g. customers) in the chunk.")
    records_processed: int = Field(description="Records done.")
    records_failed: int = Field(description="Records that failed.")
    records_skipped: int = Field(description="Records skipped.")
    attempts: int = Field(description="Deliveries so far (SQS retries a failed chunk).")
    error_message: str | None = Field(description="Why it failed, when it did.")
    finished_at: datetime | None = Field(description="When it finished.")


class JobRunWithChunks(JobRunEntry):
    chunk_counts: dict[str, int] = Field(description="A fan-out parent's chunks by status ({} for none).")
    chunks: list[JobChunk] = Field(description="A fan-out parent's chunks, in order.")


class JobHealth(ApiModel):
    job_name: str = Field(description="The job, as template.yaml names it.")
    function: str = Field(description="Its Lambda function (template logical id).")
    schedule: str | None = Field(description="EventBridge expression; null when it runs by hand only.")
    timezone: str | None = Field(description="The schedule's time zone.")
    route: str = Field(description="The route that starts it by hand.")
    last_run_at: datetime | None = Field(description="Start of the last run (any status).")
    last_status: RunStatus | None = Field(description="Status of the last run.")
    last_success_at: datetime | None = Field(description="Start of the last completed or partial run.")
    next_due_at: datetime | None = Field(description="The next scheduled start.")
    missed: bool = Field(
        description="A scheduled start more than an hour ago has no successful run since (or around) it."
    )


class JobRunResult(ApiModel):
    """The answer of a job's manual run (POST /api/cron/<job>): its cron_execution_log row as it stands when
    the request ends (a fanned-out run answers while its chunks still run)."""

    id: UUID = Field(description="The run's id (GET /api/admin/cron/logs?job=... lists it).")
    job_name: str = Field(description="The job.")
    trigger: Literal["schedule", "manual", "chunk"] = Field(description="How it started (manual here).")
    run_date: date | None = Field(description="The SAST date of the run.")
    status: RunStatus = Field(description="running (fanned out), completed, partial, failed or cancelled.")
    records_processed: int = Field(description="Records done.")
    records_failed: int = Field(description="Records that failed (see validation_errors).")
    records_skipped: int = Field(description="Records skipped.")
    duration_seconds: Decimal | None = Field(description="End minus start, in seconds; null while running.")
    details: dict[str, Any] = Field(description="The job's own counts and options.")
    error_message: str | None = Field(description="Why it failed (an error class or a domain message).")
    lease_expires_at: datetime | None = Field(
        description="Until when the run holds the job's lease (a crashed run's lease lapses)."
    )
