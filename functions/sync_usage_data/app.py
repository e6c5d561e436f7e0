"""Job sync-usage-data: daily 04:00 SAST, POST /api/cron/sync-usage-data, `isp-billing invoke`, and its own
SQS chunk messages (the run fans out above one chunk when the queue is configured)."""

from isp_billing.jobs import JobOutcome, JobRun, chunked_job_handler
from isp_billing.providers import registry
from isp_billing.usage.sync import JOB_NAME, SyncUsageOptions, plan, sync_chunk


def _sync_chunk(run: JobRun, items: list[str]) -> JobOutcome:
    return sync_chunk(run, items, registry.interstellio())


handler = chunked_job_handler(
    JOB_NAME,
    plan=plan,
    process_chunk=_sync_chunk,
    options_model=SyncUsageOptions,
    chunk_size_setting="usage_sync_chunk_size",
)
