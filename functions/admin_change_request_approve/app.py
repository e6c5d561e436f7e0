"""POST /api/admin/change-requests/{change_request_id}/approve: change the package from a date."""

from uuid import UUID

from fastapi import Path

from isp_billing.orders import package_changes
from isp_billing.orders.models import AdminChangeRequest, ApproveChangeRequest
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin change request approve")


@app.post(
    "/api/admin/change-requests/{change_request_id}/approve",
    response_model=AdminChangeRequest,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such request"},
        409: {"description": "Decided already, the service is cancelled or the package retired"},
    },
)
async def approve(
    body: ApproveChangeRequest,
    ctx: CurrentAdmin,
    change_request_id: UUID = Path(description="The change request's id."),
) -> AdminChangeRequest:
    """The change then follows the change-package route's rules (price and profile from the date)."""
    return package_changes.approve(ctx.conn, ctx.admin, change_request_id, body, ctx.request_id)


handler = lambda_handler(app)
