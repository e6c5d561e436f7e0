"""POST /api/admin/change-requests/{change_request_id}/decline: decline with a reason the customer sees."""

from uuid import UUID

from fastapi import Path

from isp_billing.orders import package_changes
from isp_billing.orders.models import AdminChangeRequest, DeclineChangeRequest
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin change request decline")


@app.post(
    "/api/admin/change-requests/{change_request_id}/decline",
    response_model=AdminChangeRequest,
    tags=["admin"],
    responses={404: {"description": "No such request"}, 409: {"description": "Decided already"}},
)
async def decline(
    body: DeclineChangeRequest,
    ctx: CurrentAdmin,
    change_request_id: UUID = Path(description="The change request's id."),
) -> AdminChangeRequest:
    """Every admin role."""
    return package_changes.decline(ctx.conn, ctx.admin, change_request_id, body)


handler = lambda_handler(app)
