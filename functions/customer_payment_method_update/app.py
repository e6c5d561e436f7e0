"""PATCH /api/customer/payment-methods/{payment_method_id}: rename a method, or update a card's expiry."""

from isp_billing.card_data import NoCardData
from isp_billing.payment_methods import methods as payment_methods
from isp_billing.payment_methods.models import PaymentMethod, PaymentMethodUpdate
from isp_billing.web import PROBLEM_JSON, CurrentCustomer, PaymentMethodId, build_app, lambda_handler

app = build_app("Update a payment method")


@app.patch(
    "/api/customer/payment-methods/{payment_method_id}",
    response_model=PaymentMethod,
    tags=["customer"],
    responses={
        404: {"description": "No such active method for this customer", "content": {PROBLEM_JSON: {}}},
        422: {
            "description": "Any field other than display_name / card_expiry_month / card_expiry_year, an "
            "expiry on a non-card method, an expired date, or card data in the body",
            "content": {PROBLEM_JSON: {}},
        },
    },
)
async def update_payment_method(
    payment_method_id: PaymentMethodId,
    ctx: CurrentCustomer,
    _no_card_data: NoCardData,
    body: PaymentMethodUpdate,
) -> PaymentMethod:
    """Only display_name (any method) and a card's expiry may change; anything else is refused."""
    return payment_methods.update(ctx.conn, ctx.customer, payment_method_id, body)


handler = lambda_handler(app)
