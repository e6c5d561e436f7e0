"""GET /api/customer/profile: the signed-in customer's contact details."""

from isp_billing.customers import profile as customer_profile
from isp_billing.customers.profile_models import Profile
from isp_billing.web import CurrentCustomer, build_app, lambda_handler

app = build_app("Customer profile")


@app.get(
    "/api/customer/profile",
    response_model=Profile,
    tags=["customer"],
    responses={403: {"description": "The user has no customer account"}},
)
async def get_profile(ctx: CurrentCustomer) -> Profile:
    """Account number, names, e-mail, phone, addresses, business details and invoice e-mail."""
    return customer_profile.get(ctx.conn, ctx.customer)


handler = lambda_handler(app)
