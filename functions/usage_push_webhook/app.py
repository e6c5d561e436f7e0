"""POST /api/webhooks/interstellio/usage: a signed batch of per-subscriber per-day usage (our own format)."""

from typing import Any

from fastapi import Request

from isp_billing.usage import webhooks as usage_webhooks
from isp_billing.usage.models import UsagePushBatch, UsagePushReceipt
from isp_billing.web import PROBLEM_JSON, build_app, lambda_handler

app = build_app("Usage push webhook")
_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_SIGNED_HEADERS = [
    {
        "name": "X-Usage-Timestamp",
        "in": "header",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
        "description": "Unix seconds when the batch was signed; more than 5 minutes from now is refused.",
    },
    {
        "name": "X-Usage-Signature",
        "in": "header",
        "required": True,
        "schema": {"type": "string", "pattern": "^v1=[0-9a-f]{64}$"},
        "description": "`v1=` + hex HMAC-SHA256(USAGE_WEBHOOK_SECRET, `<timestamp>.<raw body>`).",
    },
]


@app.post(
    "/api/webhooks/interstellio/usage",
    response_model=UsagePushReceipt,
    tags=["webhooks"],
    openapi_extra={
        "security": [],
        "parameters": _SIGNED_HEADERS,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": UsagePushBatch.model_json_schema(ref_template="#/components/schemas/{model}")
                }
            },
        },
    },
    responses={
        400: {"description": "The body is not JSON (UTF-8)", **_PROBLEM},
        401: {"description": "Missing or wrong signature, or a stale timestamp: nothing written", **_PROBLEM},
        422: {
            "description": "Not a valid usage batch (a day twice, a future day, a number not a string)",
            **_PROBLEM,
        },
    },
)
async def usage_push(request: Request) -> UsagePushReceipt:
    """Upserts the days like the daily sync (source interstellio; manual corrections stay); a replayed
    batch answers `duplicate` and changes nothing; unknown subscribers become validation errors."""
    body = await request.body()
    return usage_webhooks.receive_push(request.headers, body)


handler = lambda_handler(app)
