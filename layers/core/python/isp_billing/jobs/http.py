"""The cron routes' HTTP side: authenticate first, then a bounded body, then the job's declared options.

Order matters: without a valid cron secret or job-admin token every request is 401, whatever its body (an
unauthenticated caller learns nothing about the parser). Then the body is limited in size (413), must be
UTF-8 (400), JSON no deeper than a bound (400), free of lone surrogates, NUL and control characters (422),
and a JSON object of the job's declared options only (422). Every answer is JSON with `X-Request-Id` in the
headers; errors are problem+json, an unexpected exception too (500, logged by class only).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ValidationError

from isp_billing import admins_sql as admins
from isp_billing import auth, db
from isp_billing.errors import DomainError, Forbidden, RequestTooLarge, ValidationFailed, problem_body
from isp_billing.jobs.views_models import JobRunResult
from isp_billing.observability import bind, log_failure

JOB_ADMIN_ROLES = ("super_admin", "billing_admin")
MAX_BODY_BYTES = 16 * 1024
MAX_JSON_DEPTH = 8
_LOC_PART_MAX = 64

StartRun = Callable[[dict[str, Any], UUID | None], dict[str, Any]]


def is_http_event(event: dict[str, Any]) -> bool:
    return "httpMethod" in event or "routeKey" in event


def parse_options(options_model: type[BaseModel], options: Any) -> dict[str, Any]:
    """The job's declared options as JSON values, or ValidationFailed (422) naming each bad field.

    Validated in pydantic's JSON mode (strict where the model says so: `true` is a bool, `"12"` is not an
    int); the input is never echoed back.
    """
    if not isinstance(options, dict):
        raise ValidationFailed("The body must be a JSON object of job options.")
    _refuse_unsafe_text(options)
    try:
        parsed = options_model.model_validate_json(json.dumps(options))
    except ValidationError as error:
        problems = [
            {
                "loc": [str(part)[:_LOC_PART_MAX] for part in item.get("loc", ())],
                "msg": item.get("msg", ""),
                "type": item.get("type", ""),
            }
            for item in error.errors()
        ]
        fields = ", ".join(options_model.model_fields) or "none"
        raise ValidationFailed(
            f"The job's options are not valid (declared options: {fields}).", errors=problems
        ) from None
    return parsed.model_dump(mode="json")


def _refuse_unsafe_text(value: Any, depth: int = 0) -> None:
    """NUL, control characters and lone surrogates, in keys or values: never stored, never a 500 later."""
    if depth > MAX_JSON_DEPTH:
        raise DomainError(f"The body is nested deeper than {MAX_JSON_DEPTH} levels.")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_unsafe_text(key, depth)
            _refuse_unsafe_text(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _refuse_unsafe_text(item, depth + 1)
    elif isinstance(value, str):
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
            raise ValidationFailed("Job options may not contain NUL or control characters.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationFailed("Job options may not contain unpaired surrogates.") from None


def _json_depth_exceeds(text: str, bound: int) -> bool:
    """Whether brackets outside strings nest deeper than `bound` (checked before json.loads recurses)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > bound:
                return True
        elif char in "]}":
            depth -= 1
    return False


def read_body(event: dict[str, Any]) -> Any:
    """The body as JSON (an absent or empty body is `{}`), after the size, encoding and depth checks."""
    raw: str | bytes = event.get("body") or ""
    if event.get("isBase64Encoded") and raw:
        try:
            raw = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise DomainError("The body is not valid base64.") from None
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > MAX_BODY_BYTES:
        raise RequestTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DomainError("The body is not UTF-8 text.") from None
    if not text.strip():
        return {}
    if _json_depth_exceeds(text, MAX_JSON_DEPTH):
        raise DomainError(f"The body is nested deeper than {MAX_JSON_DEPTH} levels.")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise DomainError("The body is not valid JSON.") from None


def manual_trigger_actor(event: dict[str, Any]) -> UUID | None:
    """Who may start a job by hand: the cron secret (None: no admin) or an admin of a job role."""
    headers = {str(key).lower(): value for key, value in (event.get("headers") or {}).items()}
    token = auth.bearer_token(headers.get("authorization"))
    if auth.is_cron_secret(token):
        return None
    claims = auth.verify_token(token)
    with db.service_session() as conn:
        row = admins.find_active_by_auth_user(conn, claims["sub"])
    if row is None:
        raise Forbidden("This user is not an active admin.")
    if row["role"] not in JOB_ADMIN_ROLES:
        raise Forbidden(f"The {row['role']} role may not start jobs.")
    return UUID(str(row["id"]))


def _response(status: int, body: dict[str, Any], request_id: str) -> dict[str, Any]:
    content_type = "application/json" if status < 400 else "application/problem+json"
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_type, "X-Request-Id": request_id},
        "body": json.dumps(body, default=str),
    }


def _request_id(event: dict[str, Any]) -> str:
    value = (event.get("requestContext") or {}).get("requestId")
    return value if isinstance(value, str) and value else "unknown"


def handle(event: dict[str, Any], options_model: type[BaseModel], start: StartRun) -> dict[str, Any]:
    """POST /api/cron/<job> (and the backfill's admin route): authenticate, validate, run, answer."""
    request_id = _request_id(event)
    bind(correlation_id=request_id)
    instance = str(event.get("path") or "")
    try:
        actor = manual_trigger_actor(event)
        options = parse_options(options_model, read_body(event))
        # Through the declared model, so the answer is exactly what the spec says (JobRunResult).
        answer = JobRunResult.model_validate(start(options, actor)).model_dump(mode="json")
        return _response(200, answer, request_id)
    except DomainError as error:
        members = {"instance": instance, "request_id": request_id, **error.extra}
        body = problem_body(error.status, error.title, error.detail, error.type_slug, members)
        return _response(error.status, body, request_id)
    except Exception as error:
        log_failure("job request failed", error)
        members = {"instance": instance, "request_id": request_id}
        body = problem_body(
            500, "Internal error", "Something went wrong on our side.", "server-error", members
        )
        return _response(500, body, request_id)
