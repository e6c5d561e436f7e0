"""POST /api/admin/packages: a new package (billing_admin and super_admin)."""

from isp_billing.catalogue import packages
from isp_billing.catalogue.models import PackageCreate, PackageDetail
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin package create")


@app.post(
    "/api/admin/packages",
    response_model=PackageDetail,
    status_code=201,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        409: {"description": "A sellable package of that name exists"},
    },
)
async def create_package(body: PackageCreate, ctx: CurrentAdmin) -> PackageDetail:
    """Its first terms are in the price history from today."""
    return packages.create_package(ctx.conn, ctx.admin, body)


handler = lambda_handler(app)
