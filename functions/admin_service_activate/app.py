"""POST /api/admin/services/{service_id}/activate: pending → active."""

from isp_billing.lifecycle import actions as service_lifecycle
from isp_billing.lifecycle.models import ActivateRequest, ServiceActionResult
from isp_billing.web import CurrentAdmin, ServiceId, build_app, lambda_handler

app = build_app("Admin service activate")


@app.post(
    "/api/admin/services/{service_id}/activate",
    response_model=ServiceActionResult,
    tags=["admin"],
    responses={
        403: {"description": "Role may not"},
        404: {"description": "No such service"},
        409: {"description": "Illegal transition (carries current_status)"},
    },
)
async def activate(
    service_id: ServiceId, ctx: CurrentAdmin, body: ActivateRequest | None = None
) -> ServiceActionResult:
    """Every admin role. Does not call Interstellio."""
    return service_lifecycle.activate(ctx.conn, ctx.admin, service_id, body, ctx.request_id)


handler = lambda_handler(app)
