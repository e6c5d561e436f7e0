"""Job options: every job declares its options as a model (unknown fields 422, strict types)."""

from __future__ import annotations

import json
from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class JobOptions(BaseModel):
    """Base of every job's options: unknown fields are refused, values are not coerced.

    Options travel as JSON (a request body, an EventBridge `detail`, the run's log row), so they are
    validated in pydantic's JSON mode: a date is an ISO string, a bool is `true`/`false`, an int is not
    `"12"`, `12.0` or `true`.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    @classmethod
    def of(cls, options: dict[str, Any]) -> Self:
        """The options of a run (`JobRun.options`, already validated when the run started)."""
        return cls.model_validate_json(json.dumps(options))


class NoOptions(JobOptions):
    """A job that takes no options: any field is refused with 422."""


class ChunkMessage(JobOptions):
    """The body of one fan-out chunk message on a job's SQS queue (its items live in cron_job_chunks)."""

    job: str
    run_id: str
    chunk_no: int
