"""Job reconcile-payments: daily 09:00 SAST, POST /api/cron/reconcile-payments, or invoke."""

from isp_billing.collections.reconciliation import JOB_NAME, ReconcilePaymentsOptions, reconcile_payments
from isp_billing.jobs import JobOutcome, JobRun, job_handler
from isp_billing.providers import registry


def work(run: JobRun) -> JobOutcome:
    return reconcile_payments(run, registry.netcash_debit_orders(), registry.interstellio)


handler = job_handler(JOB_NAME, work, options_model=ReconcilePaymentsOptions)
