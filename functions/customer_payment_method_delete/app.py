"""DELETE /api/customer/payment-methods/{payment_method_id}: deactivate (kept for payment history)."""

from fastapi import Response

from isp_billing.payment_methods import methods as payment_methods
from isp_billing.web import PROBLEM_JSON, CurrentCustomer, PaymentMethodId, build_app, lambda_handler

app = build_app("Remove a payment method")


@app.delete(
    "/api/customer/payment-methods/{payment_method_id}",
    status_code=204,
    response_class=Response,
    tags=["customer"],
    responses={
        204: {"description": "Deactivated (also when it already was)"},
        404: {"description": "No such method for this customer", "content": {PROBLEM_JSON: {}}},
        409: {
            "description": "The only debit order while an unpaid invoice awaits collection "
            "(reason: unpaid_invoice_awaiting_collection)",
            "content": {PROBLEM_JSON: {}},
        },
    },
)
async def delete_payment_method(payment_method_id: PaymentMethodId, ctx: CurrentCustomer) -> Response:
    """Deleting the primary promotes the most recently added other active method, if any."""
    payment_methods.deactivate(ctx.conn, ctx.customer, payment_method_id)
    return Response(status_code=204)


handler = lambda_handler(app)
