"""POST /api/admin/services/{service_id}/activate: pending → active, provisioning the line at Interstellio."""

from fastapi import Response

from isp_billing.lifecycle.models import ActivateRequest, ServiceActionResult
from isp_billing.orders import provisioning
from isp_billing.orders.models import ProvisioningPending
from isp_billing.providers import registry
from isp_billing.web import CurrentAdmin, ServiceId, build_app, lambda_handler

app = build_app("Admin service activate")


@app.post(
    "/api/admin/services/{service_id}/activate",
    response_model=ServiceActionResult | ProvisioningPending,
    tags=["admin"],
    responses={
        202: {
            "model": ProvisioningPending,
            "description": "Interstellio's answer was uncertain: pending, finished by retry-provider-sync",
        },
        403: {"description": "Role may not"},
        404: {"description": "No such service"},
        409: {"description": "Illegal transition (carries current_status), or provisioning not configured"},
        502: {"description": "Interstellio refused to create the subscriber; nothing changed"},
    },
)
async def activate(
    service_id: ServiceId, ctx: CurrentAdmin, response: Response, body: ActivateRequest | None = None
) -> ServiceActionResult | ProvisioningPending:
    """Every admin role. A pending service without a subscriber whose package names an Interstellio service
    and profile gets its subscriber created first (never twice); its id is stored, then it is activated."""
    result = provisioning.activate(
        ctx.conn, ctx.admin, service_id, body, ctx.request_id, registry.interstellio()
    )
    if isinstance(result, ProvisioningPending):
        response.status_code = 202
    return result


handler = lambda_handler(app)
