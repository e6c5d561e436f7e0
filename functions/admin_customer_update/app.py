"""PATCH /api/admin/customers/{customer_id}: contact, addresses and business details."""

from isp_billing.customers import admin as customer_admin
from isp_billing.customers.admin_models import CustomerContactUpdate, CustomerWithBilling
from isp_billing.web import CurrentAdmin, CustomerId, build_app, lambda_handler

app = build_app("Admin customer update")


@app.patch(
    "/api/admin/customers/{customer_id}",
    response_model=CustomerWithBilling,
    tags=["admin"],
    responses={
        404: {"description": "No such customer"},
        409: {"description": "The e-mail is taken (carries the existing account_number)"},
    },
)
async def update_customer(
    customer_id: CustomerId, body: CustomerContactUpdate, ctx: CurrentAdmin
) -> CustomerWithBilling:
    """Any active admin; only the fields sent change; audited with before and after."""
    return customer_admin.update_contact(ctx.conn, ctx.admin, customer_id, body, ctx.request_id)


handler = lambda_handler(app)
