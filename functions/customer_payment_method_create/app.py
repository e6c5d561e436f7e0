"""POST /api/customer/payment-methods: add a debit order (with a NetCash eMandate), a card token, or EFT."""

from typing import Any

from fastapi import Response

from isp_billing import idempotency
from isp_billing.card_data import NoCardData
from isp_billing.payment_methods import methods as payment_methods
from isp_billing.payment_methods.models import PaymentMethod, PaymentMethodCreate
from isp_billing.providers.registry import netcash_for_requests
from isp_billing.web import PROBLEM_JSON, CurrentCustomer, build_app, lambda_handler

app = build_app("Add a payment method")
_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}


@app.post(
    "/api/customer/payment-methods",
    status_code=201,
    response_model=PaymentMethod,
    tags=["customer"],
    responses={
        201: {
            "description": "Added. A debit order's mandate is pending: the customer signs it at mandate_url."
        },
        409: {"description": "No billable services to size a mandate, or a concurrent change", **_PROBLEM},
        422: {
            "description": "Invalid body, a card number or CVV anywhere in it, an account NetCash's check "
            "rejects (the problem names the field), or an Idempotency-Key reused for another request",
            **_PROBLEM,
        },
        502: {
            "description": "NetCash failed, timed out or answered nonsense; nothing was stored",
            **_PROBLEM,
        },
    },
)
async def add_payment_method(
    ctx: CurrentCustomer,
    _no_card_data: NoCardData,
    body: PaymentMethodCreate,
    idempotency_key: idempotency.IdempotencyKey = None,
) -> Response:
    """The first active method becomes primary. Retries with the same Idempotency-Key replay the response."""
    outcome = payment_methods.add(
        ctx.conn, ctx.customer, body, provider=netcash_for_requests(), idempotency_key=idempotency_key
    )
    return idempotency.response(outcome)


handler = lambda_handler(app)
