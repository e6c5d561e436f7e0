"""POST /api/admin/review-queue/{item_id}/resolve: link the order to a candidate, or to a new customer."""

from isp_billing.backfill import review as migration_review
from isp_billing.backfill.models import ResolvedReview, ResolveReviewRequest
from isp_billing.web import BillingAdmin, ReviewItemId, build_app, lambda_handler

app = build_app("Admin migration review decision")


@app.post(
    "/api/admin/review-queue/{item_id}/resolve",
    response_model=ResolvedReview,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such review item"},
        409: {"description": "Already decided, or the order cannot be linked that way"},
    },
)
async def resolve_review_item(
    item_id: ReviewItemId, body: ResolveReviewRequest, ctx: BillingAdmin
) -> ResolvedReview:
    """Applies the decision in the same transaction as recording who took it."""
    return migration_review.resolve(ctx.conn, ctx.admin, item_id, body)


handler = lambda_handler(app)
