"""Job process-debit-orders: business days 06:00 SAST, POST /api/cron/process-debit-orders, or invoke."""

from isp_billing.collections.debit_orders import JOB_NAME, ProcessDebitOrdersOptions, process_debit_orders
from isp_billing.jobs import JobOutcome, JobRun, job_handler
from isp_billing.providers import registry


def work(run: JobRun) -> JobOutcome:
    return process_debit_orders(run, registry.netcash_debit_orders())


handler = job_handler(JOB_NAME, work, options_model=ProcessDebitOrdersOptions)
