"""GET /api/customer/invoices/{invoice_id}: one of the signed-in customer's invoices, its lines (each with a
reason in words) and the payments made against it."""

from isp_billing.invoices import queries as invoice_queries
from isp_billing.invoices.models import CustomerInvoiceDetail
from isp_billing.web import CurrentCustomer, InvoiceId, build_app, lambda_handler

app = build_app("Customer invoice")


@app.get(
    "/api/customer/invoices/{invoice_id}",
    response_model=CustomerInvoiceDetail,
    tags=["customer"],
    responses={404: {"description": "No such invoice for this customer (or a draft or void one)"}},
)
async def get_invoice(invoice_id: InvoiceId, ctx: CurrentCustomer) -> CustomerInvoiceDetail:
    """Another customer's invoice answers 404."""
    return invoice_queries.get_customer_invoice(ctx.conn, ctx.customer, invoice_id)


handler = lambda_handler(app)
