"""POST /api/admin/customers/{customer_id}/charges/{charge_id}/cancel: a charge not yet invoiced."""

from isp_billing.billing import inputs as billing_inputs
from isp_billing.billing.models import Charge
from isp_billing.web import BillingAdmin, ChargeId, CustomerId, build_app, lambda_handler

app = build_app("Admin customer charge cancel")


@app.post(
    "/api/admin/customers/{customer_id}/charges/{charge_id}/cancel",
    response_model=Charge,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such charge"},
        409: {"description": "Already invoiced or cancelled (carries current_status)"},
    },
)
async def cancel_charge(customer_id: CustomerId, charge_id: ChargeId, ctx: BillingAdmin) -> Charge:
    """Only a pending charge; an invoiced one is corrected with a credit note."""
    return billing_inputs.cancel_charge(ctx.conn, ctx.admin, customer_id, charge_id)


handler = lambda_handler(app)
