"""POST /api/admin/services/{service_id}/end-now: last day of service today; disables the line now."""

from fastapi import Response

from isp_billing.lifecycle import actions as service_lifecycle
from isp_billing.lifecycle.models import EndNowRequest, ServiceActionResult
from isp_billing.providers import registry
from isp_billing.web import BillingAdmin, ServiceId, build_app, lambda_handler

app = build_app("Admin service end now")


@app.post(
    "/api/admin/services/{service_id}/end-now",
    response_model=ServiceActionResult,
    tags=["admin"],
    responses={
        202: {"description": "Ended; Interstellio's answer was uncertain, disable pending a retry"},
        403: {"description": "Role may not (billing_admin and super_admin only)"},
        404: {"description": "No such service"},
        409: {"description": "The service's last day has passed already (carries current_status)"},
        502: {"description": "Interstellio refused; nothing changed"},
    },
)
async def end_now(
    service_id: ServiceId, body: EndNowRequest, ctx: BillingAdmin, response: Response
) -> ServiceActionResult:
    """billing_admin and super_admin. Cancels the service with today as its last day (shortening an earlier
    cancellation) and disables the Interstellio subscriber now."""
    result = service_lifecycle.end_now(
        ctx.conn, ctx.admin, service_id, body, ctx.request_id, registry.interstellio()
    )
    response.status_code = 202 if result.provider_pending else 200
    return result


handler = lambda_handler(app)
