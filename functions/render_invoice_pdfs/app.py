"""Job render-invoice-pdfs: the render queue's messages (one invoice each, partial batch failures), and the
sweep on its schedule, POST /api/cron/render-invoice-pdfs or `isp-billing invoke`."""

from isp_billing.invoices.render_job import build_handler

handler = build_handler()
