"""GET /api/customer/payment-methods: the signed-in customer's active payment methods, primary first."""

from isp_billing.payment_methods import methods as payment_methods
from isp_billing.payment_methods.models import PaymentMethod
from isp_billing.web import CurrentCustomer, build_app, lambda_handler

app = build_app("Customer payment methods")


@app.get("/api/customer/payment-methods", response_model=list[PaymentMethod], tags=["customer"])
async def list_payment_methods(ctx: CurrentCustomer) -> list[PaymentMethod]:
    """Active methods, primary first, then newest; masked details only."""
    return payment_methods.list_active(ctx.conn, ctx.customer)


handler = lambda_handler(app)
