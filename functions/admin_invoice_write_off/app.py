"""POST /api/admin/invoices/{invoice_id}/write-off: stop collecting what is still due on an invoice."""

from isp_billing.invoices import admin_actions as invoice_admin_actions
from isp_billing.invoices.models import AdminInvoiceSummary, InvoiceActionRequest
from isp_billing.web import BillingAdmin, InvoiceId, build_app, lambda_handler

app = build_app("Admin invoice write-off")


@app.post(
    "/api/admin/invoices/{invoice_id}/write-off",
    response_model=AdminInvoiceSummary,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such invoice"},
        409: {"description": "Not an unpaid issued invoice"},
    },
)
async def write_off(
    invoice_id: InvoiceId, body: InvoiceActionRequest, ctx: BillingAdmin
) -> AdminInvoiceSummary:
    """With a reason; status `written_off`, the amount written off recorded."""
    return invoice_admin_actions.write_off(ctx.conn, ctx.admin, invoice_id, body, ctx.request_id)


handler = lambda_handler(app)
