"""POST /api/admin/invoices/{invoice_id}/void: withdraw a draft invoice."""

from isp_billing.invoices import admin_actions as invoice_admin_actions
from isp_billing.invoices.models import AdminInvoiceSummary, InvoiceActionRequest
from isp_billing.web import BillingAdmin, InvoiceId, build_app, lambda_handler

app = build_app("Admin invoice void")


@app.post(
    "/api/admin/invoices/{invoice_id}/void",
    response_model=AdminInvoiceSummary,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such invoice"},
        409: {"description": "Not a draft: an issued invoice is corrected by a credit note (named)"},
    },
)
async def void_invoice(
    invoice_id: InvoiceId, body: InvoiceActionRequest, ctx: BillingAdmin
) -> AdminInvoiceSummary:
    """Draft only, with a reason (kept in the invoice's action log)."""
    return invoice_admin_actions.void(ctx.conn, ctx.admin, invoice_id, body, ctx.request_id)


handler = lambda_handler(app)
