"""GET /api/admin/services/{service_id}: one service with its open suspension, if any."""

from isp_billing.lifecycle import queries as admin_service_queries
from isp_billing.lifecycle.models import AdminServiceDetail
from isp_billing.web import CurrentAdmin, ServiceId, build_app, lambda_handler

app = build_app("Admin service")


@app.get(
    "/api/admin/services/{service_id}",
    response_model=AdminServiceDetail,
    tags=["admin"],
    responses={404: {"description": "No such service"}},
)
async def get_service(service_id: ServiceId, ctx: CurrentAdmin) -> AdminServiceDetail:
    """Any active admin."""
    return admin_service_queries.get_service(ctx.conn, service_id)


handler = lambda_handler(app)
