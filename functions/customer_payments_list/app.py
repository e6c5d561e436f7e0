"""GET /api/customer/payments: the caller's debit orders and payments, newest first."""

from isp_billing.collections import payments
from isp_billing.collections.models import PaymentItem
from isp_billing.pagination import DEFAULT_PAGE_SIZE, Cursor, Page, PageSize
from isp_billing.web import CurrentCustomer, build_app, lambda_handler

app = build_app("Customer payments list")


@app.get("/api/customer/payments", response_model=Page[PaymentItem], tags=["customer"])
async def list_payments(
    ctx: CurrentCustomer, limit: PageSize = DEFAULT_PAGE_SIZE, cursor: Cursor = None
) -> Page[PaymentItem]:
    """Date, amount, method, invoice number, status and, for a failed debit, the reason in words."""
    return payments.customer_payments(ctx.conn, ctx.customer.customer_id, limit=limit, cursor=cursor)


handler = lambda_handler(app)
