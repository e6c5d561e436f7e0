"""POST /api/admin/billing/preview: what a billing run on a date would invoice; writes nothing."""

from isp_billing.billing import preview as billing_preview
from isp_billing.billing.models import PreviewRequest, PreviewResponse
from isp_billing.web import BillingAdmin, build_app, lambda_handler

app = build_app("Admin billing preview")


@app.post(
    "/api/admin/billing/preview",
    response_model=PreviewResponse,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        422: {
            "description": "Invalid body, or no customer_id while the run would bill more customers than"
            " BILLING_PREVIEW_MAX_CUSTOMERS (default 1000; the problem names `limit` and `customers`)"
        },
    },
)
async def preview_billing(body: PreviewRequest, ctx: BillingAdmin) -> PreviewResponse:
    """The same plan and rules as the run (lines with their sources), computed and written nowhere."""
    return billing_preview.preview(ctx.conn, ctx.admin, body)


handler = lambda_handler(app)
