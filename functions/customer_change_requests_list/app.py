"""GET /api/customer/change-requests: the signed-in customer's package change requests."""

from isp_billing.orders import package_changes
from isp_billing.orders.models import ChangeRequest
from isp_billing.web import CurrentCustomer, build_app, lambda_handler

app = build_app("Customer change requests")


@app.get("/api/customer/change-requests", response_model=list[ChangeRequest], tags=["customer"])
async def list_requests(ctx: CurrentCustomer) -> list[ChangeRequest]:
    """Newest first, with each decision."""
    return package_changes.list_own_requests(ctx.conn, ctx.customer)


handler = lambda_handler(app)
