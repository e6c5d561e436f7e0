"""POST /api/admin/services/{service_id}/suspend: active → suspended; disables the line."""

from fastapi import Response

from isp_billing.lifecycle import actions as service_lifecycle
from isp_billing.lifecycle.models import ServiceActionResult, SuspendRequest
from isp_billing.providers import registry
from isp_billing.web import CurrentAdmin, ServiceId, build_app, lambda_handler

app = build_app("Admin service suspend")


@app.post(
    "/api/admin/services/{service_id}/suspend",
    response_model=ServiceActionResult,
    tags=["admin"],
    responses={
        202: {"description": "Suspended; Interstellio's answer was uncertain, disable pending a retry"},
        403: {"description": "Role may not (per suspension type)"},
        404: {"description": "No such service"},
        409: {"description": "Illegal transition (carries current_status)"},
        502: {"description": "Interstellio refused; nothing changed"},
    },
)
async def suspend(
    service_id: ServiceId, body: SuspendRequest, ctx: CurrentAdmin, response: Response
) -> ServiceActionResult:
    """support: technical, customer_request; billing_admin also non_payment, policy_violation, other;
    super_admin also fraud."""
    result = service_lifecycle.suspend(
        ctx.conn, ctx.admin, service_id, body, ctx.request_id, registry.interstellio()
    )
    response.status_code = 202 if result.provider_pending else 200
    return result


handler = lambda_handler(app)
