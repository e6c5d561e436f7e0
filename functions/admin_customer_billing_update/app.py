"""PATCH /api/admin/customers/{customer_id}/billing: debit day, auto-pay, payment terms, invoice e-mail."""

from isp_billing.customers import admin as customer_admin
from isp_billing.customers.admin_models import BillingUpdateResult, CustomerBillingUpdate
from isp_billing.web import CurrentAdmin, CustomerId, build_app, lambda_handler

app = build_app("Admin customer billing update")


@app.patch(
    "/api/admin/customers/{customer_id}/billing",
    response_model=BillingUpdateResult,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such customer"},
        422: {"description": "An invalid field, or `billing_day` (not yet changeable through this route)"},
    },
)
async def update_billing(
    customer_id: CustomerId, body: CustomerBillingUpdate, ctx: CurrentAdmin
) -> BillingUpdateResult:
    """super_admin, billing_admin; only the fields sent change; audited with before and after."""
    return customer_admin.update_billing(ctx.conn, ctx.admin, customer_id, body, ctx.request_id)


handler = lambda_handler(app)
