"""POST /api/admin/services/{service_id}/reactivate: suspended → active; enables the line."""

from fastapi import Response

from isp_billing.lifecycle import actions as service_lifecycle
from isp_billing.lifecycle.models import ReactivateRequest, ServiceActionResult
from isp_billing.providers import registry
from isp_billing.web import CurrentAdmin, ServiceId, build_app, lambda_handler

app = build_app("Admin service reactivate")


@app.post(
    "/api/admin/services/{service_id}/reactivate",
    response_model=ServiceActionResult,
    tags=["admin"],
    responses={
        202: {"description": "Reactivated; Interstellio's answer was uncertain, enable pending a retry"},
        403: {"description": "Role may not lift this suspension's type"},
        404: {"description": "No such service"},
        409: {"description": "Illegal transition (carries current_status)"},
        502: {"description": "Interstellio refused; nothing changed"},
    },
)
async def reactivate(
    service_id: ServiceId, ctx: CurrentAdmin, response: Response, body: ReactivateRequest | None = None
) -> ServiceActionResult:
    """Any admin role that could have imposed the open suspension's type."""
    result = service_lifecycle.reactivate(
        ctx.conn, ctx.admin, service_id, body, ctx.request_id, registry.interstellio()
    )
    response.status_code = 202 if result.provider_pending else 200
    return result


handler = lambda_handler(app)
