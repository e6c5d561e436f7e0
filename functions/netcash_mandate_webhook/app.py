"""POST /api/webhooks/netcash/mandate?token=...: NetCash's eMandate result (accepted, declined, cancelled)."""

from typing import Annotated, Any

from fastapi import Query

from isp_billing.form_body import FormFields
from isp_billing.payment_methods import netcash_mandates
from isp_billing.payment_methods.models import MandateWebhookReceipt
from isp_billing.providers.registry import netcash_for_requests
from isp_billing.text import TokenText
from isp_billing.web import PROBLEM_JSON, build_app, lambda_handler

app = build_app("NetCash mandate webhook")
_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_FORM = {
    "application/x-www-form-urlencoded": {
        "schema": {
            "type": "object",
            "description": "NetCash's mandate postback. Read: MandateSuccessful, IsDeclined, IsActive "
            "(1/0 or True/False), Field1 (our payment method id), MandateReferenceNumber, AccountRef, "
            "ReasonForDecline; other fields are ignored. It is a hint: the status applied is the one "
            "NetCash's RetrieveMandateData reports.",
            "required": ["MandateSuccessful", "Field1"],
            "properties": {
                "MandateSuccessful": {"type": "string"},
                "IsDeclined": {"type": "string"},
                "IsActive": {"type": "string"},
                "Field1": {"type": "string", "format": "uuid"},
                "MandateReferenceNumber": {"type": "string"},
                "AccountRef": {"type": "string"},
                "ReasonForDecline": {"type": "string"},
            },
            "additionalProperties": {"type": "string"},
        }
    }
}


@app.post(
    "/api/webhooks/netcash/mandate",
    response_model=MandateWebhookReceipt,
    tags=["webhooks"],
    openapi_extra={
        "security": [],
        "requestBody": {"required": True, "content": _FORM},
        # NetCash always sends it; a delivery without it is answered 401 (not 422), like a wrong one.
        "parameters": [{"name": "token", "in": "query", "required": True}],
    },
    responses={
        401: {"description": "Missing or wrong token", **_PROBLEM},
        422: {"description": "A postback without an outcome or without Field1", **_PROBLEM},
        502: {"description": "NetCash could not be asked to confirm; deliver again", **_PROBLEM},
        503: {"description": "NetCash does not confirm the outcome yet; deliver again later", **_PROBLEM},
    },
)
async def mandate_postback(
    form: FormFields,
    token: Annotated[
        TokenText | None,
        Query(description="The webhook secret (NETCASH_WEBHOOK_SECRET) configured at NetCash."),
    ] = None,
) -> MandateWebhookReceipt:
    """Authenticated by the URL's secret; confirmed with NetCash; applied once per delivery."""
    return netcash_mandates.handle_postback(form, token, netcash_for_requests())


handler = lambda_handler(app)
