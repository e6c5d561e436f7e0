"""GET /api/customer/services: the signed-in customer's services."""

from isp_billing.customers import account as customer_account
from isp_billing.customers.models import CustomerService
from isp_billing.web import CurrentCustomer, build_app, lambda_handler

app = build_app("Customer services")


@app.get("/api/customer/services", response_model=list[CustomerService], tags=["customer"])
async def list_services(ctx: CurrentCustomer) -> list[CustomerService]:
    """The services of the signed-in customer, oldest first."""
    return customer_account.list_services(ctx.conn, ctx.customer)


handler = lambda_handler(app)
