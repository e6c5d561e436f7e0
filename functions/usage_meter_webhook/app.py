"""POST /api/webhooks/interstellio/usage-meter?token=...: Interstellio's subscriber-usage-meter-triggered."""

from typing import Annotated, Any

from fastapi import Query, Request

from isp_billing.text import TokenText
from isp_billing.usage import webhooks as usage_webhooks
from isp_billing.usage.models import MeterWebhookReceipt
from isp_billing.web import PROBLEM_JSON, build_app, lambda_handler

app = build_app("Interstellio usage meter webhook")
_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_BODY = {
    "application/json": {
        "schema": {
            "type": "object",
            "description": "Interstellio's webhook (payload shape unconfirmed): `subscriber.id`, and "
            "`monthly_combined_kb`, `monthly_month` (YYYY-MM), `monthly_combined_trigger_kb` at the top "
            "level or inside `subscriber`. Other fields are ignored.",
            "required": ["subscriber"],
            "properties": {
                "trigger": {"type": "string", "enum": ["subscriber-usage-meter-triggered"]},
                "subscriber": {"type": "object", "properties": {"id": {"type": "string"}}},
                "monthly_combined_kb": {"type": "integer"},
                "monthly_month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                "monthly_combined_trigger_kb": {"type": "integer"},
            },
        }
    }
}


@app.post(
    "/api/webhooks/interstellio/usage-meter",
    response_model=MeterWebhookReceipt,
    tags=["webhooks"],
    openapi_extra={"security": [], "requestBody": {"required": True, "content": _BODY}},
    responses={
        400: {"description": "The body is not JSON (UTF-8)", **_PROBLEM},
        401: {"description": "Missing or wrong token", **_PROBLEM},
        422: {"description": "Not a usage-meter delivery", **_PROBLEM},
    },
)
async def usage_meter(
    request: Request,
    token: Annotated[
        TokenText | None,
        Query(description="The secret INTERSTELLIO_WEBHOOK_TOKEN, in the URL set at Interstellio."),
    ] = None,
) -> MeterWebhookReceipt:
    """Recorded once per service and meter month; feeds the data-cap alerts of the current period."""
    body = await request.body()
    return usage_webhooks.receive_meter(token, body)


handler = lambda_handler(app)
