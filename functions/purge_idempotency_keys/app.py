"""Job purge-idempotency-keys: daily, deletes idempotency keys past their expiry."""

from isp_billing.jobs import NoOptions, job_handler
from isp_billing.jobs.maintenance import purge_expired_idempotency_keys

handler = job_handler("purge-idempotency-keys", purge_expired_idempotency_keys, options_model=NoOptions)
