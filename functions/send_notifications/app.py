"""Job send-notifications: every 5 minutes, POST /api/cron/send-notifications and `isp-billing invoke`."""

from isp_billing.jobs import NoOptions, job_handler
from isp_billing.notifications.sender import JOB_NAME, send_due

handler = job_handler(JOB_NAME, send_due, options_model=NoOptions)
