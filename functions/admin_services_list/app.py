"""GET /api/admin/services: services to act on, filtered by status, customer or package, newest first."""

from typing import Annotated
from uuid import UUID

from fastapi import Query

from isp_billing.api_models import ServiceStatus
from isp_billing.lifecycle import queries as admin_service_queries
from isp_billing.lifecycle.models import AdminService
from isp_billing.pagination import DEFAULT_PAGE_SIZE, Cursor, Page, PageSize
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin services")


@app.get("/api/admin/services", response_model=Page[AdminService], tags=["admin"])
async def list_services(
    ctx: CurrentAdmin,
    status: Annotated[ServiceStatus | None, Query(description="Only services in this status.")] = None,
    customer_id: Annotated[UUID | None, Query(description="Only this customer's services.")] = None,
    package_id: Annotated[UUID | None, Query(description="Only services sold from this package.")] = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> Page[AdminService]:
    """Any active admin; keyset pagination (`next_cursor`)."""
    return admin_service_queries.list_services(
        ctx.conn, status=status, customer_id=customer_id, package_id=package_id, cursor=cursor, limit=limit
    )


handler = lambda_handler(app)
