"""POST /api/admin/review-queue/{item_id}/dismiss: the order is not to be migrated; nothing is linked."""

from isp_billing.backfill import review as migration_review
from isp_billing.backfill.models import DismissReviewRequest, ReviewItem
from isp_billing.web import BillingAdmin, ReviewItemId, build_app, lambda_handler

app = build_app("Admin migration review dismissal")


@app.post(
    "/api/admin/review-queue/{item_id}/dismiss",
    response_model=ReviewItem,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such review item"},
        409: {"description": "The item is not open (with its current status)"},
    },
)
async def dismiss_review_item(
    item_id: ReviewItemId, body: DismissReviewRequest, ctx: BillingAdmin
) -> ReviewItem:
    """Records who dismissed it, when, and why, in one transaction; the backfill skips the order for good."""
    return migration_review.dismiss(ctx.conn, ctx.admin, item_id, body)


handler = lambda_handler(app)
