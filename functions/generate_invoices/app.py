"""Job generate-invoices: daily 02:00 SAST, POST /api/cron/generate-invoices, `isp-billing invoke`, and its
own SQS chunk messages (the run fans out above one chunk when the queue is configured)."""

from isp_billing.billing.run import JOB_NAME, GenerateInvoicesOptions, bill_chunk, plan
from isp_billing.jobs import chunked_job_handler

handler = chunked_job_handler(
    JOB_NAME, plan=plan, process_chunk=bill_chunk, options_model=GenerateInvoicesOptions
)
