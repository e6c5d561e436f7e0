"""GET /api/admin/services/{service_id}/audit-log: the service's actions, newest first."""

from isp_billing.lifecycle import queries as admin_service_queries
from isp_billing.lifecycle.models import AuditEntry
from isp_billing.pagination import DEFAULT_PAGE_SIZE, Cursor, Page, PageSize
from isp_billing.web import CurrentAdmin, ServiceId, build_app, lambda_handler

app = build_app("Admin service audit log")


@app.get(
    "/api/admin/services/{service_id}/audit-log",
    response_model=Page[AuditEntry],
    tags=["admin"],
    responses={404: {"description": "No such service"}},
)
async def audit_log(
    service_id: ServiceId, ctx: CurrentAdmin, limit: PageSize = DEFAULT_PAGE_SIZE, cursor: Cursor = None
) -> Page[AuditEntry]:
    """Any active admin; each entry names the admin (null for the system); keyset pagination."""
    return admin_service_queries.audit_log(ctx.conn, service_id, cursor=cursor, limit=limit)


handler = lambda_handler(app)
