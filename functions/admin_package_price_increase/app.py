"""POST /api/admin/packages/{package_id}/price-increase: a new price for every subscriber from a date."""

from isp_billing.catalogue import price_increase
from isp_billing.catalogue.models import PackageId, PriceIncreaseRequest, PriceIncreaseResult
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin package price increase")


@app.post(
    "/api/admin/packages/{package_id}/price-increase",
    response_model=PriceIncreaseResult,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such package"},
        409: {"description": "The package already has terms from that date"},
    },
)
async def increase(
    package_id: PackageId, body: PriceIncreaseRequest, ctx: CurrentAdmin
) -> PriceIncreaseResult:
    """At least PRICE_CHANGE_NOTICE_DAYS ahead; a notice e-mail per customer is queued now; services with a
    negotiated price are left alone and listed."""
    return price_increase.increase(ctx.conn, ctx.admin, package_id, body, ctx.request_id)


handler = lambda_handler(app)
