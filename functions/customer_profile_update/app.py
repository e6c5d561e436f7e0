"""PATCH /api/customer/profile: the signed-in customer changes their phone, addresses or invoice e-mail."""

from isp_billing.customers import profile as customer_profile
from isp_billing.customers.profile_models import Profile, ProfileUpdate
from isp_billing.web import CurrentCustomer, build_app, lambda_handler

app = build_app("Customer profile update")


@app.patch(
    "/api/customer/profile",
    response_model=Profile,
    tags=["customer"],
    responses={
        403: {"description": "The user has no customer account"},
        422: {"description": "Any other field (names, e-mail, business details change through support)"},
    },
)
async def update_profile(body: ProfileUpdate, ctx: CurrentCustomer) -> Profile:
    """Only the fields sent change; audited with the customer as the actor."""
    return customer_profile.update(ctx.conn, ctx.customer, body, ctx.request_id)


handler = lambda_handler(app)
