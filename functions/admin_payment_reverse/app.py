"""POST /api/admin/payments/{transaction_id}/reverse: undo an EFT or cash payment entered by mistake."""

import uuid
from typing import Annotated

from fastapi import Path

from isp_billing.collections import payments
from isp_billing.collections.models import PaymentReversal, PaymentReversalRequest
from isp_billing.web import BillingAdmin, build_app, lambda_handler

app = build_app("Admin payment reverse")

TransactionId = Annotated[uuid.UUID, Path(description="The payment transaction's id.")]


@app.post(
    "/api/admin/payments/{transaction_id}/reverse",
    response_model=PaymentReversal,
    status_code=201,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such payment"},
        409: {
            "description": "Not a successful manual/EFT payment (a debit order, already reversed), or its"
            " invoice is void or written off"
        },
    },
)
async def reverse_payment(
    transaction_id: TransactionId, body: PaymentReversalRequest, ctx: BillingAdmin
) -> PaymentReversal:
    """A `reversal` transaction of the same amount undoes it on the invoice (the reconciliation's reversal);
    the original becomes `reversed`, the invoice's status is recomputed and the action logged."""
    return payments.reverse_manual_payment(ctx.conn, ctx.admin, transaction_id, body, ctx.request_id)


handler = lambda_handler(app)
