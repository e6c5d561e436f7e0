"""GET /api/customer/usage/history: the signed-in customer's usage by day (paged) or by calendar month."""

import uuid
from typing import Annotated, Literal

from fastapi import Query

from isp_billing.api_models import IsoDate
from isp_billing.pagination import DEFAULT_PAGE_SIZE, Cursor, PageSize
from isp_billing.usage import queries as customer_usage
from isp_billing.usage.models import UsageHistory
from isp_billing.web import CurrentCustomer, build_app, lambda_handler

app = build_app("Customer usage history")


@app.get(
    "/api/customer/usage/history",
    response_model=UsageHistory,
    tags=["customer"],
    responses={404: {"description": "service_id is not one of this customer's services"}},
)
async def usage_history(
    ctx: CurrentCustomer,
    start_date: Annotated[
        IsoDate | None, Query(description="First SAST day (default: six months ago).")
    ] = None,
    end_date: Annotated[IsoDate | None, Query(description="Last SAST day (default: today).")] = None,
    granularity: Annotated[Literal["day", "month"], Query(description="Rows per day or per month.")] = "day",
    service_id: Annotated[uuid.UUID | None, Query(description="Only this service.")] = None,
    cursor: Cursor = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
) -> UsageHistory:
    """At most 24 months; a reversed or longer range is 422. Daily rows are paged (oldest first)."""
    return customer_usage.usage_history(
        ctx.conn,
        ctx.customer,
        start=start_date,
        end=end_date,
        granularity=granularity,
        service_id=service_id,
        cursor=cursor,
        limit=limit,
    )


handler = lambda_handler(app)
