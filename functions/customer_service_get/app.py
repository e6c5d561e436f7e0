"""GET /api/customer/services/{service_id}: one of the signed-in customer's services."""

from isp_billing.customers import account as customer_account
from isp_billing.customers.models import CustomerService
from isp_billing.web import CurrentCustomer, ServiceId, build_app, lambda_handler

app = build_app("Customer service")


@app.get(
    "/api/customer/services/{service_id}",
    response_model=CustomerService,
    tags=["customer"],
    responses={404: {"description": "No such service for this customer"}},
)
async def get_service(service_id: ServiceId, ctx: CurrentCustomer) -> CustomerService:
    """One service; another customer's id answers 404."""
    return customer_account.get_service(ctx.conn, ctx.customer, service_id)


handler = lambda_handler(app)
