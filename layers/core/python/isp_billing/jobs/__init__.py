"""Jobs: the runner (a run log row with a lease, one live run per job), the SQS fan-out of big runs into
chunks, the HTTP side of cron routes, metrics, the schedules of template.yaml and the run views.

A capability writes a job with the names re-exported here. `runner` never imports `fanout`, which
builds on it.
"""

from isp_billing.jobs.fanout import ChunkPlanner, ChunkWork, chunked_job_handler
from isp_billing.jobs.http import parse_options
from isp_billing.jobs.log_sql import merge_details
from isp_billing.jobs.models import JobOptions, NoOptions
from isp_billing.jobs.runner import (
    JobOutcome,
    JobRun,
    JobWork,
    job_handler,
    run_from_event,
    run_job,
    split_into_chunks,
)

__all__ = [
    "ChunkPlanner",
    "ChunkWork",
    "JobOptions",
    "JobOutcome",
    "JobRun",
    "JobWork",
    "NoOptions",
    "chunked_job_handler",
    "job_handler",
    "merge_details",
    "parse_options",
    "run_from_event",
    "run_job",
    "split_into_chunks",
]
