"""GET /api/customer/invoices: the signed-in customer's invoices, newest first (never a draft or void)."""

from typing import Annotated

from fastapi import Query

from isp_billing.invoices import queries as invoice_queries
from isp_billing.invoices.models import CustomerInvoiceStatus, InvoiceSummary
from isp_billing.pagination import DEFAULT_PAGE_SIZE, Cursor, Page, PageSize
from isp_billing.web import CurrentCustomer, build_app, lambda_handler

app = build_app("Customer invoices")


@app.get("/api/customer/invoices", response_model=Page[InvoiceSummary], tags=["customer"])
async def list_invoices(
    ctx: CurrentCustomer,
    status: Annotated[
        CustomerInvoiceStatus | None, Query(description="Only invoices in this status.")
    ] = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> Page[InvoiceSummary]:
    """Keyset pagination (`next_cursor`); credit notes are listed too (kind `credit_note`)."""
    return invoice_queries.list_customer_invoices(
        ctx.conn, ctx.customer, status=status, cursor=cursor, limit=limit
    )


handler = lambda_handler(app)
