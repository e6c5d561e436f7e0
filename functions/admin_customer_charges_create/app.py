"""POST /api/admin/customers/{customer_id}/charges: a once-off charge for the next invoice."""

from isp_billing.billing import inputs as billing_inputs
from isp_billing.billing.models import Charge, ChargeCreateRequest
from isp_billing.web import BillingAdmin, CustomerId, build_app, lambda_handler

app = build_app("Admin customer charge create")


@app.post(
    "/api/admin/customers/{customer_id}/charges",
    response_model=Charge,
    status_code=201,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such customer"},
    },
)
async def add_charge(customer_id: CustomerId, body: ChargeCreateRequest, ctx: BillingAdmin) -> Charge:
    """Installation, equipment or adjustment; VAT-inclusive; invoiced once, on or after its due date."""
    return billing_inputs.add_charge(ctx.conn, ctx.admin, customer_id, body)


handler = lambda_handler(app)
