"""POST /api/admin/services/{service_id}/usage: a manual usage correction for one day, audited."""

from isp_billing.usage import corrections as usage_corrections
from isp_billing.usage.models import UsageCorrectionRequest, UsageCorrectionResult
from isp_billing.web import BillingAdmin, ServiceId, build_app, lambda_handler

app = build_app("Admin service usage correction")


@app.post(
    "/api/admin/services/{service_id}/usage",
    response_model=UsageCorrectionResult,
    tags=["admin"],
    responses={
        403: {"description": "Only billing_admin and super_admin"},
        404: {"description": "No such service"},
    },
)
async def correct_usage(
    service_id: ServiceId, body: UsageCorrectionRequest, ctx: BillingAdmin
) -> UsageCorrectionResult:
    """The day's manual figures replace the synced ones wherever usage is shown (the sync never overwrites
    them); a second correction of the day replaces the first. Written to the service's audit log."""
    return usage_corrections.correct_day(ctx.conn, ctx.admin, service_id, body, ctx.request_id)


handler = lambda_handler(app)
