"""POST /api/admin/invoices/{invoice_id}/credit-note: correct an issued invoice with a credit note."""

from isp_billing.invoices import credit_notes
from isp_billing.invoices.models import CreditNoteRequest, CreditNoteResult
from isp_billing.web import BillingAdmin, InvoiceId, build_app, lambda_handler

app = build_app("Admin invoice credit note")


@app.post(
    "/api/admin/invoices/{invoice_id}/credit-note",
    response_model=CreditNoteResult,
    status_code=201,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such invoice"},
        409: {
            "description": "Not creditable (draft, void, written off, a credit note), or more than is left"
        },
    },
)
async def credit_note(invoice_id: InvoiceId, body: CreditNoteRequest, ctx: BillingAdmin) -> CreditNoteResult:
    """Full, by lines or by amount (VAT-inclusive), with a reason; CRN-YYYY-NNNNN; the excess over the amount
    due becomes account credit."""
    return credit_notes.issue(ctx.conn, ctx.admin, invoice_id, body, ctx.request_id)


handler = lambda_handler(app)
