"""Job sync-mandate-statuses: hourly, applies NetCash's mandate statuses (the backstop for lost postbacks)."""

from isp_billing.jobs import JobOutcome, JobRun, NoOptions, job_handler
from isp_billing.payment_methods import mandate_status
from isp_billing.providers import registry


def _sync(run: JobRun) -> JobOutcome:
    return mandate_status.sync_mandate_statuses(run, registry.netcash_for_jobs())


handler = job_handler("sync-mandate-statuses", _sync, options_model=NoOptions)
