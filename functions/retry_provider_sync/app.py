"""Job retry-provider-sync: every 15 minutes, re-applies owed Interstellio changes, finishes subscriber
creations whose answer was lost and switches profiles whose package change is due."""

from isp_billing.jobs import JobOutcome, JobRun, NoOptions, job_handler
from isp_billing.orders import provider_work
from isp_billing.providers import registry


def _retry(run: JobRun) -> JobOutcome:
    return provider_work.retry_all(run, registry.interstellio())


handler = job_handler("retry-provider-sync", _retry, options_model=NoOptions)
