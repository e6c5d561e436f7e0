"""GET /api/admin/validation-errors: records jobs could not handle (the order backfill's, and others')."""

from typing import Annotated

from fastapi import Query

from isp_billing.backfill import review as migration_review
from isp_billing.backfill.models import ValidationErrorItem
from isp_billing.pagination import DEFAULT_PAGE_SIZE, Cursor, Page, PageSize
from isp_billing.text import FilterText
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin validation errors")


@app.get(
    "/api/admin/validation-errors",
    response_model=Page[ValidationErrorItem],
    tags=["admin"],
    responses={403: {"description": "Not an admin"}},
)
async def list_validation_errors(
    ctx: CurrentAdmin,
    source: Annotated[FilterText | None, Query(description="e.g. order_backfill")] = None,
    resolved: Annotated[bool | None, Query(description="Only resolved (true) or unresolved (false).")] = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> Page[ValidationErrorItem]:
    """Newest first, keyset paginated."""
    return migration_review.list_validation_errors(
        ctx.conn, ctx.admin, source=source, resolved=resolved, limit=limit, cursor=cursor
    )


handler = lambda_handler(app)
