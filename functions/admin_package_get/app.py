"""GET /api/admin/packages/{package_id}: one package with its price history."""

from isp_billing.catalogue import packages
from isp_billing.catalogue.models import PackageDetail, PackageId
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin package")


@app.get(
    "/api/admin/packages/{package_id}",
    response_model=PackageDetail,
    tags=["admin"],
    responses={404: {"description": "No such package"}},
)
async def get_package(package_id: PackageId, ctx: CurrentAdmin) -> PackageDetail:
    """Every admin role."""
    return packages.get_package(ctx.conn, ctx.admin, package_id)


handler = lambda_handler(app)
