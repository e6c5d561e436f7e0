"""Job backfill-orders: link the website's consumer orders to customers and services (run by hand).

POST /api/admin/backfill/orders (super_admin, billing_admin or the cron secret) with {"dry_run": bool,
"since": "YYYY-MM-DD"}, a direct invoke, or `isp-billing backfill-orders`.
"""

from isp_billing.backfill import orders as order_backfill
from isp_billing.backfill.models import BackfillOptions
from isp_billing.jobs import job_handler

handler = job_handler(order_backfill.JOB_NAME, order_backfill.run, options_model=BackfillOptions)
