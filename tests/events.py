"""Calling handlers the way Lambda does, with real event shapes."""

from __future__ import annotations

import base64
import json
from typing import Any

from isp_billing_cli.events import LambdaContext, api_gateway_event
from isp_billing_cli.template import function_by_id


def call_api(
    logical_id: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: str = "",
) -> tuple[int, dict[str, str], Any]:
    """Invoke the template's function for this route with an API Gateway event; (status, headers, json)."""
    function = function_by_id(logical_id)
    route, params = _route_for(function, method, path)
    all_headers = {"content-type": "application/json", **(headers or {})}
    if token is not None:
        all_headers["authorization"] = f"Bearer {token}"
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    event = api_gateway_event(method, route, path, params, all_headers, query, raw)
    result = function.load_handler()(event, LambdaContext(logical_id))
    response_headers = {key.lower(): value for key, value in (result.get("headers") or {}).items()}
    text = result.get("body") or ""
    return result["statusCode"], response_headers, json.loads(text) if text else None


def call_api_raw(
    logical_id: str, method: str, path: str, *, token: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """As call_api, for a route that answers bytes (a PDF): the body decoded as API Gateway would."""
    function = function_by_id(logical_id)
    route, params = _route_for(function, method, path)
    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    event = api_gateway_event(method, route, path, params, headers, "", None)
    result = function.load_handler()(event, LambdaContext(logical_id))
    response_headers = {key.lower(): value for key, value in (result.get("headers") or {}).items()}
    text = result.get("body") or ""
    body = base64.b64decode(text) if result.get("isBase64Encoded") else text.encode()
    return result["statusCode"], response_headers, body


def _route_for(function: Any, method: str, path: str) -> tuple[str, dict[str, str]]:
    for route in function.routes:
        found = route.pattern.match(path)
        if found and route.method == method.upper():
            return route.path, found.groupdict()
    raise AssertionError(f"{function.logical_id} has no route {method} {path} in template.yaml")


def sqs_event_from_messages(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The SQS event Lambda's event source mapping builds from received messages (receive_message with
    AttributeNames=["All"]): the same record shape, the real ApproximateReceiveCount."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes") or {}),
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for message in messages
        ]
    }
