"""POST /api/admin/invoices/{invoice_id}/payments: record an EFT or cash payment on an invoice; once it has
committed, reactivate what the system suspended for non-payment if nothing is overdue past the grace."""

import uuid
from typing import Annotated

from fastapi import BackgroundTasks, Path

from isp_billing.collections import overdue, payments
from isp_billing.collections.models import ManualPayment, ManualPaymentRequest
from isp_billing.providers import registry
from isp_billing.web import BillingAdmin, build_app, lambda_handler

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
    invoice_id: InvoiceId, body: ManualPaymentRequest, ctx: BillingAdmin, after_commit: BackgroundTasks
) -> ManualPayment:
    """Partial payments allowed; anything above what the invoice owes becomes the customer's credit. A
    payment that leaves nothing overdue past the grace period reactivates the services the system suspended
    for non-payment before the call returns (an admin's suspension stays)."""
    payment = payments.record_manual_payment(ctx.conn, ctx.admin, invoice_id, body)
    # A background task runs after the transaction (BillingAdmin, scope="function") has committed, so the
    # payment stands whatever Interstellio does; the Lambda invocation still waits for it.
    after_commit.add_task(
        overdue.reactivate_paid_up, [payment.customer_id], ctx.request_id, registry.interstellio
    )
    return payment


handler = lambda_handler(app)
