"""GET /api/admin/review-queue: backfill cases a person must decide, with their candidate customers."""

from typing import Annotated

from fastapi import Query

from isp_billing.backfill import review as migration_review
from isp_billing.backfill.models import ReviewItem, ReviewStatus
from isp_billing.pagination import DEFAULT_PAGE_SIZE, Cursor, Page, PageSize
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin migration review queue")


@app.get(
    "/api/admin/review-queue",
    response_model=Page[ReviewItem],
    tags=["admin"],
    responses={403: {"description": "Not an admin"}},
)
async def list_review_queue(
    ctx: CurrentAdmin,
    status: Annotated[ReviewStatus, Query(description="Default: open items.")] = "open",
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> Page[ReviewItem]:
    """Oldest first (a work queue), keyset paginated."""
    return migration_review.list_review_queue(ctx.conn, ctx.admin, status=status, limit=limit, cursor=cursor)


handler = lambda_handler(app)
