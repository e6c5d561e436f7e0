"""GET /api/admin/customers/{customer_id}/charges: the customer's once-off charges, newest first."""

from isp_billing.billing import inputs as billing_inputs
from isp_billing.billing.models import Charge
from isp_billing.web import BillingAdmin, CustomerId, build_app, lambda_handler

app = build_app("Admin customer charges list")


@app.get(
    "/api/admin/customers/{customer_id}/charges",
    response_model=list[Charge],
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such customer"},
    },
)
async def list_charges(customer_id: CustomerId, ctx: BillingAdmin) -> list[Charge]:
    """Pending, invoiced (with the invoice number) and cancelled charges."""
    return billing_inputs.list_charges(ctx.conn, ctx.admin, customer_id)


handler = lambda_handler(app)
