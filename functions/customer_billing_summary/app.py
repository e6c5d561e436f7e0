"""GET /api/customer/billing/summary: balance owed, overdue, credit, the next invoice, payments."""

from isp_billing.billing import summary as billing_summary
from isp_billing.invoices.models import BillingSummary
from isp_billing.web import CurrentCustomer, build_app, lambda_handler

app = build_app("Customer billing summary")


@app.get(
    "/api/customer/billing/summary",
    response_model=BillingSummary,
    tags=["customer"],
    responses={404: {"description": "The customer has no billing settings"}},
)
async def get_summary(ctx: CurrentCustomer) -> BillingSummary:
    """The next invoice's amount is what the billing run would compute today for that date."""
    return billing_summary.summary(ctx.conn, ctx.customer)


handler = lambda_handler(app)
