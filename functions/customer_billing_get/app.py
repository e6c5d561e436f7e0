"""GET /api/customer/billing: the signed-in customer's billing settings."""

from isp_billing.customers import account as customer_account
from isp_billing.customers.models import BillingSettings
from isp_billing.web import CurrentCustomer, build_app, lambda_handler

app = build_app("Customer billing settings")


@app.get(
    "/api/customer/billing",
    response_model=BillingSettings,
    tags=["customer"],
    responses={
        403: {"description": "The user has no customer account"},
        404: {"description": "No billing settings"},
    },
)
async def get_billing(ctx: CurrentCustomer) -> BillingSettings:
    """Billing day, payment terms, invoice email, auto-pay, debit day and credit balance."""
    return customer_account.get_billing_settings(ctx.conn, ctx.customer)


handler = lambda_handler(app)
