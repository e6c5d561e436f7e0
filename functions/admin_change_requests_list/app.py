"""GET /api/admin/change-requests: customers' package change requests."""

from typing import Literal

from fastapi import Query

from isp_billing.orders import package_changes
from isp_billing.orders.models import AdminChangeRequest
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin change requests")


@app.get("/api/admin/change-requests", response_model=list[AdminChangeRequest], tags=["admin"])
async def list_requests(
    ctx: CurrentAdmin,
    status: Literal["pending", "approved", "declined"] | None = Query(
        default=None, description="Only these."
    ),
) -> list[AdminChangeRequest]:
    """Every admin role; newest first."""
    return package_changes.list_requests(ctx.conn, ctx.admin, status)


handler = lambda_handler(app)
