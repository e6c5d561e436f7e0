"""Job enforce-overdue: daily 07:00 SAST, POST /api/cron/enforce-overdue, or invoke."""

from isp_billing.collections.overdue import JOB_NAME, EnforceOverdueOptions, enforce_overdue
from isp_billing.jobs import JobOutcome, JobRun, job_handler
from isp_billing.providers import registry


def work(run: JobRun) -> JobOutcome:
    return enforce_overdue(run, registry.interstellio())


handler = job_handler(JOB_NAME, work, options_model=EnforceOverdueOptions)
