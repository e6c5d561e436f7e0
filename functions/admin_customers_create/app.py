"""POST /api/admin/customers: sign a customer up (consumer or business) with its billing settings."""

from isp_billing.customers import admin as customer_admin
from isp_billing.customers.admin_models import CustomerCreateRequest, CustomerWithBilling
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin customer create")


@app.post(
    "/api/admin/customers",
    response_model=CustomerWithBilling,
    status_code=201,
    tags=["admin"],
    responses={409: {"description": "The e-mail is taken (carries the existing account_number)"}},
)
async def create_customer(body: CustomerCreateRequest, ctx: CurrentAdmin) -> CustomerWithBilling:
    """Any active admin (support and up); the customer, its billing settings and the audit row in one
    transaction; `Idempotency-Key` honoured."""
    return customer_admin.create(ctx.conn, ctx.admin, body, ctx.request_id)


handler = lambda_handler(app)
