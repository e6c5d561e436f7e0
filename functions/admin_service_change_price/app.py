"""POST /api/admin/services/{service_id}/change-price: a new monthly price or package from a date."""

from isp_billing.billing import inputs as billing_inputs
from isp_billing.billing.models import ChangePriceRequest, ChangePriceResult
from isp_billing.web import BillingAdmin, ServiceId, build_app, lambda_handler

app = build_app("Admin service price change")


@app.post(
    "/api/admin/services/{service_id}/change-price",
    response_model=ChangePriceResult,
    tags=["admin"],
    responses={
        403: {"description": "Not a super_admin or billing_admin"},
        404: {"description": "No such service"},
        409: {"description": "The service is cancelled (carries current_status)"},
    },
)
async def change_price(
    service_id: ServiceId, body: ChangePriceRequest, ctx: BillingAdmin
) -> ChangePriceResult:
    """Recorded as a price_change audit row; the next invoice carries the pro-rata difference."""
    return billing_inputs.change_price(ctx.conn, ctx.admin, service_id, body, ctx.request_id)


handler = lambda_handler(app)
