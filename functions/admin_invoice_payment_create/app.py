"""POST /api/admin/invoices/{invoice_id}/payments: record an EFT or cash payment on an invoice."""

import uuid
from typing import Annotated

from fastapi import Path

from isp_billing.models.payments import ManualPayment, ManualPaymentRequest
from isp_billing.services import payments
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin invoice payment create")

InvoiceId = Annotated[uuid.UUID, Path(description="The invoice's id.")]


@app.post(
    "/api/admin/invoices/{invoice_id}/payments",
    response_model=ManualPayment,
    status_code=201,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such invoice"},
        409: {"description": "The invoice is not issued (draft, void, written off or a credit note)"},
    },
)
async def record_payment(
    invoice_id: InvoiceId, body: ManualPaymentRequest, ctx: CurrentAdmin
) -> ManualPayment:
    """Partial payments allowed; anything above what the invoice owes becomes the customer's credit."""
    return payments.record_manual_payment(ctx.conn, ctx.admin, invoice_id, body)


handler = lambda_handler(app)
