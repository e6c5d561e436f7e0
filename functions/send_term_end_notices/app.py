"""Job send-term-end-notices: daily, queues the CPA s14(2)(c) notice of each fixed term ending in 80 to 40
business days (once per service and term)."""

from isp_billing.jobs import NoOptions, job_handler
from isp_billing.orders import contracts

handler = job_handler(contracts.JOB_NAME, contracts.queue_term_end_notices, options_model=NoOptions)
