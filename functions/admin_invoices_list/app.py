"""GET /api/admin/invoices: invoices by customer, status, kind, date range or overdue, newest first."""

from typing import Annotated
from uuid import UUID

from fastapi import Query

from isp_billing.api_models import IsoDate
from isp_billing.invoices import queries as invoice_queries
from isp_billing.invoices.models import AdminInvoiceSummary, InvoiceKind, InvoiceStatus
from isp_billing.pagination import DEFAULT_PAGE_SIZE, Cursor, Page, PageSize
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin invoices")


@app.get("/api/admin/invoices", response_model=Page[AdminInvoiceSummary], tags=["admin"])
async def list_invoices(
    ctx: CurrentAdmin,
    customer_id: Annotated[UUID | None, Query(description="Only this customer's invoices.")] = None,
    status: Annotated[InvoiceStatus | None, Query(description="Only invoices in this status.")] = None,
    kind: Annotated[InvoiceKind | None, Query(description="Only invoices of this kind.")] = None,
    date_from: Annotated[IsoDate | None, Query(description="Invoice date on or after (SAST).")] = None,
    date_to: Annotated[IsoDate | None, Query(description="Invoice date on or before (SAST).")] = None,
    overdue: Annotated[bool, Query(description="Only unpaid invoices past their due date.")] = False,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> Page[AdminInvoiceSummary]:
    """Any active admin; keyset pagination (`next_cursor`)."""
    return invoice_queries.list_admin_invoices(
        ctx.conn,
        customer_id=customer_id,
        status=status,
        kind=kind,
        date_from=date_from,
        date_to=date_to,
        overdue=overdue,
        cursor=cursor,
        limit=limit,
    )


handler = lambda_handler(app)
