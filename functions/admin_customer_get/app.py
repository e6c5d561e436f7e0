"""GET /api/admin/customers/{customer_id}: the account at a glance."""

from isp_billing.customers import overview as customer_overview
from isp_billing.customers.admin_models import CustomerOverview
from isp_billing.web import CurrentAdmin, CustomerId, build_app, lambda_handler

app = build_app("Admin customer")


@app.get(
    "/api/admin/customers/{customer_id}",
    response_model=CustomerOverview,
    tags=["admin"],
    responses={404: {"description": "No such customer"}},
)
async def get_customer(customer_id: CustomerId, ctx: CurrentAdmin) -> CustomerOverview:
    """Any active admin: contact, billing settings, balance owed and overdue, credit, services, open
    suspensions, payment methods with mandate status, the latest invoices and payments, and a timeline."""
    return customer_overview.overview(ctx.conn, customer_id)


handler = lambda_handler(app)
