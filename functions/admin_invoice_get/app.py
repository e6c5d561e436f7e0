"""GET /api/admin/invoices/{invoice_id}: an invoice with its lines (full sources), payments, credit notes,
PDF state and action history."""

from isp_billing.invoices import queries as invoice_queries
from isp_billing.invoices.models import AdminInvoiceDetail
from isp_billing.web import CurrentAdmin, InvoiceId, build_app, lambda_handler

app = build_app("Admin invoice")


@app.get(
    "/api/admin/invoices/{invoice_id}",
    response_model=AdminInvoiceDetail,
    tags=["admin"],
    responses={404: {"description": "No such invoice"}},
)
async def get_invoice(invoice_id: InvoiceId, ctx: CurrentAdmin) -> AdminInvoiceDetail:
    """Any active admin."""
    return invoice_queries.get_admin_invoice(ctx.conn, invoice_id)


handler = lambda_handler(app)
