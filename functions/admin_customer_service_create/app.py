"""POST /api/admin/customers/{customer_id}/services: sell a package (a pending service and its charges)."""

from isp_billing.orders import orders
from isp_billing.orders.models import OrderRequest, OrderResult
from isp_billing.web import CurrentAdmin, CustomerId, build_app, lambda_handler

app = build_app("Admin customer service create")


@app.post(
    "/api/admin/customers/{customer_id}/services",
    response_model=OrderResult,
    status_code=201,
    tags=["admin"],
    responses={
        403: {"description": "A price override needs billing_admin or super_admin"},
        404: {"description": "No such customer"},
        409: {"description": "The package is retired"},
    },
)
async def create_service(customer_id: CustomerId, body: OrderRequest, ctx: CurrentAdmin) -> OrderResult:
    """support and up. Once-off charges default to the package's installation and equipment fees."""
    return orders.create_order(ctx.conn, ctx.admin, customer_id, body, ctx.request_id)


handler = lambda_handler(app)
