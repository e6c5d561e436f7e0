"""POST /api/admin/services/{service_id}/cancel: pending|active|suspended → cancelled."""

from isp_billing.lifecycle import actions as service_lifecycle
from isp_billing.lifecycle.models import CancelRequest, ServiceActionResult
from isp_billing.web import BillingAdmin, ServiceId, build_app, lambda_handler

app = build_app("Admin service cancel")


@app.post(
    "/api/admin/services/{service_id}/cancel",
    response_model=ServiceActionResult,
    tags=["admin"],
    responses={
        403: {"description": "Role may not"},
        404: {"description": "No such service"},
        409: {"description": "Illegal transition (carries current_status)"},
        422: {"description": "Effective date in the past, before activation, or beyond the bound"},
    },
)
async def cancel(service_id: ServiceId, body: CancelRequest, ctx: BillingAdmin) -> ServiceActionResult:
    """billing_admin and super_admin. Effective date default: the end of the current billing period."""
    return service_lifecycle.cancel(ctx.conn, ctx.admin, service_id, body, ctx.request_id)


handler = lambda_handler(app)
