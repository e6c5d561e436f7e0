"""Job generate-invoices: daily 02:00 SAST, POST /api/cron/generate-invoices, `isp-billing invoke`."""

from isp_billing.jobs import job_handler
from isp_billing.services.billing_run import JOB_NAME, generate_invoices, parse_options

handler = job_handler(JOB_NAME, generate_invoices, parse_options=parse_options)
