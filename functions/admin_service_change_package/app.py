"""POST /api/admin/services/{service_id}/change-package: another package from an effective date."""

from isp_billing.orders import package_changes
from isp_billing.orders.models import ChangePackageRequest, ChangePackageResult
from isp_billing.web import CurrentAdmin, ServiceId, build_app, lambda_handler

app = build_app("Admin service change package")


@app.post(
    "/api/admin/services/{service_id}/change-package",
    response_model=ChangePackageResult,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such service"},
        409: {"description": "The service is cancelled, or the package is retired"},
    },
)
async def change_package(
    service_id: ServiceId, body: ChangePackageRequest, ctx: CurrentAdmin
) -> ChangePackageResult:
    """The price through the change-price rule; the line's profile is switched at Interstellio on the
    effective date by retry-provider-sync."""
    return package_changes.change_package(ctx.conn, ctx.admin, service_id, body, ctx.request_id)


handler = lambda_handler(app)
