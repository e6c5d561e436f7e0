"""GET /api/customer/usage: the signed-in customer's usage in the current billing period."""

from isp_billing.usage import queries as customer_usage
from isp_billing.usage.models import CurrentUsage
from isp_billing.web import CurrentCustomer, build_app, lambda_handler

app = build_app("Customer usage")


@app.get("/api/customer/usage", response_model=CurrentUsage, tags=["customer"])
async def current_usage(ctx: CurrentCustomer) -> CurrentUsage:
    """Per service: each day of the current billing period (upload, download, total MB), the period's totals,
    the package's data cap and the share used; a manually corrected day shows the correction."""
    return customer_usage.current_usage(ctx.conn, ctx.customer)


handler = lambda_handler(app)
