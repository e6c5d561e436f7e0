"""Job retry-provider-sync: every 15 minutes, re-applies owed Interstellio changes."""

from isp_billing.jobs import JobOutcome, JobRun, NoOptions, job_handler
from isp_billing.lifecycle import provider_sync
from isp_billing.providers import registry


def _retry(run: JobRun) -> JobOutcome:
    return provider_sync.retry_pending(run, registry.interstellio())


handler = job_handler("retry-provider-sync", _retry, options_model=NoOptions)
