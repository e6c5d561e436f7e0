"""PATCH /api/admin/packages/{package_id}: change or retire a package; new terms from a date."""

from isp_billing.catalogue import packages
from isp_billing.catalogue.models import PackageDetail, PackageId, PackageUpdate
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin package update")


@app.patch(
    "/api/admin/packages/{package_id}",
    response_model=PackageDetail,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such package"},
        409: {"description": "Terms from that day exist already, or the name is taken"},
    },
)
async def update_package(package_id: PackageId, body: PackageUpdate, ctx: CurrentAdmin) -> PackageDetail:
    """is_sellable false retires it (never deleted; its subscribers keep it). Price, cap and out-of-bundle
    price are a new history row from effective_from (today or later)."""
    return packages.update_package(ctx.conn, ctx.admin, package_id, body)


handler = lambda_handler(app)
