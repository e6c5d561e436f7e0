"""Real AWS event shapes for invoking handlers locally: API Gateway REST proxy, EventBridge Scheduler, SQS."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs


def api_gateway_event(
    method: str,
    resource: str,
    path: str,
    path_parameters: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    query_string: str = "",
    body: bytes | str | None = None,
    stage: str = "local",
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An API Gateway REST API (v1) Lambda proxy event, as a deployed stage sends it."""
    headers = dict(headers or {})
    query = parse_qs(query_string, keep_blank_values=True)
    raw = body.encode() if isinstance(body, str) else body
    is_binary = False
    body_text: str | None = None
    if raw:
        try:
            body_text = raw.decode("utf-8")
        except UnicodeDecodeError:
            body_text, is_binary = base64.b64encode(raw).decode(), True
    now = datetime.now(UTC)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method.upper(),
        "headers": headers or None,
        "multiValueHeaders": {key: [value] for key, value in headers.items()} or None,
        "queryStringParameters": {key: values[-1] for key, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method.upper(),
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "accountId": "123456789012",
            "apiId": "local",
            "protocol": "HTTP/1.1",
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("user-agent", "")},
            "domainName": "localhost",
        },
        "body": body_text,
        "isBase64Encoded": is_binary,
    }


def scheduled_event(schedule_name: str = "local", detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """An EventBridge Scheduler event as the Lambda target receives it (default payload shape)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "af-south-1",
        "resources": [f"arn:aws:scheduler:af-south-1:123456789012:schedule/default/{schedule_name}"],
        "detail": detail or {},
    }


def sqs_event(bodies: list[str], queue: str = "local-queue") -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "local",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:af-south-1:123456789012:{queue}",
                "awsRegion": "af-south-1",
            }
            for body in bodies
        ]
    }


class LambdaContext:
    """The attributes Powertools and Mangum read from a Lambda context."""

    def __init__(self, function_name: str, timeout_seconds: int = 29) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:af-south-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = datetime.now(UTC).timestamp() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - datetime.now(UTC).timestamp()) * 1000))
