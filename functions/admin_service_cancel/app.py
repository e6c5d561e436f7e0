"""POST /api/admin/services/{service_id}/cancel: pending|active|suspended → cancelled; inside a fixed term,
an early-termination charge on the final invoice."""

from isp_billing.orders import contracts
from isp_billing.orders.models import ContractCancelRequest, ContractCancelResult
from isp_billing.web import BillingAdmin, ServiceId, build_app, lambda_handler

app = build_app("Admin service cancel")


@app.post(
    "/api/admin/services/{service_id}/cancel",
    response_model=ContractCancelResult,
    tags=["admin"],
    responses={
        403: {"description": "Role may not (or may not waive the early-termination charge)"},
        404: {"description": "No such service"},
        409: {"description": "Illegal transition (carries current_status)"},
        422: {"description": "Effective date in the past, before activation, or beyond the bound"},
    },
)
async def cancel(
    service_id: ServiceId, body: ContractCancelRequest, ctx: BillingAdmin
) -> ContractCancelResult:
    """billing_admin and super_admin. Effective date default: the end of the current billing period. Inside
    a fixed term the response and the audit row show the early-termination charge (a billing admin may waive
    it with a reason)."""
    return contracts.cancel(ctx.conn, ctx.admin, service_id, body, ctx.request_id)


handler = lambda_handler(app)
