"""POST /api/customer/payment-methods/{payment_method_id}/set-primary: make it the only primary method."""

from fastapi import Response

from isp_billing import idempotency
from isp_billing.payment_methods import methods as payment_methods
from isp_billing.payment_methods.models import PaymentMethod
from isp_billing.web import PROBLEM_JSON, CurrentCustomer, PaymentMethodId, build_app, lambda_handler

app = build_app("Set the primary payment method")


@app.post(
    "/api/customer/payment-methods/{payment_method_id}/set-primary",
    response_model=PaymentMethod,
    tags=["customer"],
    responses={
        404: {"description": "No such active method for this customer", "content": {PROBLEM_JSON: {}}},
        409: {
            "description": "A debit order whose mandate is declined, cancelled or expired",
            "content": {PROBLEM_JSON: {}},
        },
    },
)
async def set_primary(
    payment_method_id: PaymentMethodId,
    ctx: CurrentCustomer,
) -> Response:
    """Atomic: the customer has exactly one primary afterwards, even under concurrent calls.
    `Idempotency-Key` is honoured by the route class (web.ApiRoute), as on every POST."""
    outcome = payment_methods.set_primary(ctx.conn, ctx.customer, payment_method_id, idempotency_key=None)
    return idempotency.response(outcome)


handler = lambda_handler(app)
