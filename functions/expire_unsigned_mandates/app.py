"""Job expire-unsigned-mandates: daily, syncs with NetCash, then expires mandates unsigned after 7 days."""

from isp_billing.jobs import JobOutcome, JobRun, NoOptions, job_handler
from isp_billing.payment_methods import mandate_status
from isp_billing.providers import registry


def _expire(run: JobRun) -> JobOutcome:
    return mandate_status.expire_unsigned_mandates(run, registry.netcash_for_jobs())


handler = job_handler("expire-unsigned-mandates", _expire, options_model=NoOptions)
