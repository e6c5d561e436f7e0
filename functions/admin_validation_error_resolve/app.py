"""POST /api/admin/validation-errors/{error_id}/resolve: the cause is fixed; the next backfill retries."""

from isp_billing.backfill import review as migration_review
from isp_billing.backfill.models import ResolveValidationErrorRequest, ValidationErrorItem
from isp_billing.web import BillingAdmin, ValidationErrorId, build_app, lambda_handler

app = build_app("Admin validation error resolution")


@app.post(
    "/api/admin/validation-errors/{error_id}/resolve",
    response_model=ValidationErrorItem,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such validation error"},
        409: {"description": "Already resolved (with when and by whom)"},
    },
)
async def resolve_validation_error(
    error_id: ValidationErrorId, body: ResolveValidationErrorRequest, ctx: BillingAdmin
) -> ValidationErrorItem:
    """Records who resolved it, when, and their note, in one transaction."""
    return migration_review.resolve_validation_error(ctx.conn, ctx.admin, error_id, body)


handler = lambda_handler(app)
