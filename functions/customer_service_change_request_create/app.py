"""POST /api/customer/services/{service_id}/change-requests: ask for another sellable package."""

from isp_billing.orders import package_changes
from isp_billing.orders.models import ChangeRequest, ChangeRequestCreate
from isp_billing.web import CurrentCustomer, ServiceId, build_app, lambda_handler

app = build_app("Customer change request")


@app.post(
    "/api/customer/services/{service_id}/change-requests",
    response_model=ChangeRequest,
    status_code=201,
    tags=["customer"],
    responses={
        404: {"description": "No such service of this customer"},
        409: {"description": "A request for this service is waiting already, or the service is cancelled"},
    },
)
async def create_request(
    service_id: ServiceId, body: ChangeRequestCreate, ctx: CurrentCustomer
) -> ChangeRequest:
    """An admin approves (with an effective date) or declines it with a reason."""
    return package_changes.create_request(ctx.conn, ctx.customer, service_id, body)


handler = lambda_handler(app)
