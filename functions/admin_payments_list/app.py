"""GET /api/admin/payments: every payment transaction, filtered, newest first, keyset paginated."""

import uuid
from typing import Annotated, Literal

from fastapi import Query

from isp_billing.api_models import IsoDate
from isp_billing.collections import payments
from isp_billing.collections.models import AdminPaymentItem
from isp_billing.pagination import DEFAULT_PAGE_SIZE, Cursor, Page, PageSize
from isp_billing.text import FilterText
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin payments list")


@app.get(
    "/api/admin/payments",
    response_model=Page[AdminPaymentItem],
    tags=["admin"],
    responses={403: {"description": "Not an admin"}},
)
async def list_payments(
    ctx: CurrentAdmin,
    customer_id: Annotated[uuid.UUID | None, Query(description="Only this customer's.")] = None,
    status: Annotated[
        Literal["pending", "submitted", "successful", "failed", "reversed"] | None,
        Query(description="Status."),
    ] = None,
    batch: Annotated[FilterText | None, Query(description="A NetCash batch name.")] = None,
    date_from: Annotated[
        IsoDate | None, Query(alias="from", description="From this day (inclusive).")
    ] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="To this day (inclusive).")] = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> Page[AdminPaymentItem]:
    """The day is a debit order's action date, or the day a manual payment arrived."""
    return payments.admin_payments(
        ctx.conn,
        ctx.admin,
        customer_id=customer_id,
        status=status,
        batch_reference=batch,
        date_from=date_from,
        date_to=date_to,
        limit=limit,
        cursor=cursor,
    )


handler = lambda_handler(app)
