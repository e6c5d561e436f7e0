"""GET /api/admin/invoices/{invoice_id}/pdf: any customer's tax invoice as a PDF (any active admin)."""

from fastapi import Response

from isp_billing.invoices import delivery as invoice_delivery
from isp_billing.invoices.pdf_http import PDF_RESPONSES, pdf_response
from isp_billing.web import ALL_ADMIN_ROLES, InvoiceId, VerifiedClaims, build_app, lambda_handler

app = build_app("Admin invoice PDF")


@app.get(
    "/api/admin/invoices/{invoice_id}/pdf",
    tags=["admin"],
    response_class=Response,
    responses=PDF_RESPONSES,
    # Checked by admin_pdf in its own short session (no body or query to validate first).
    openapi_extra={"x-admin-roles": list(ALL_ADMIN_ROLES)},
)
async def invoice_pdf(invoice_id: InvoiceId, claims: VerifiedClaims) -> Response:
    """As the customer's route, for any customer's invoice; a draft or a void one: 404."""
    return pdf_response(invoice_delivery.admin_pdf(claims, invoice_id))


handler = lambda_handler(app)
