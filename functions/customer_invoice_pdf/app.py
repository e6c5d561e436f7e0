"""GET /api/customer/invoices/{invoice_id}/pdf: the signed-in customer's tax invoice as a PDF."""

from fastapi import Response

from isp_billing.invoices import delivery as invoice_delivery
from isp_billing.invoices.pdf_http import PDF_RESPONSES, pdf_response
from isp_billing.web import InvoiceId, VerifiedClaims, build_app, lambda_handler

app = build_app("Customer invoice PDF")


@app.get(
    "/api/customer/invoices/{invoice_id}/pdf",
    tags=["customer"],
    response_class=Response,
    responses=PDF_RESPONSES,
)
async def invoice_pdf(invoice_id: InvoiceId, claims: VerifiedClaims) -> Response:
    """302 to a short-lived S3 URL (rendered and stored first if it was not yet); the bytes where the stage
    has no bucket. Another customer's invoice, a draft or a void one: 404."""
    return pdf_response(invoice_delivery.customer_pdf(claims, invoice_id))


handler = lambda_handler(app)
