"""The API's OpenAPI document: every HTTP function's FastAPI spec merged, plus the jobs' cron routes."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from isp_billing.jobs.views_models import JobRunResult
from isp_billing_cli.template import ROOT, functions

OPENAPI_PATH = ROOT / "infra" / "openapi.json"

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "description": "A URI naming the kind of problem, e.g. https://isp-billing.dev/problems/not-found;"
            " stable, so clients may branch on it.",
        },
        "title": {"type": "string", "description": "A short summary of the kind of problem, e.g. Not found."},
        "status": {"type": "integer", "description": "The HTTP status code, repeated in the body."},
        "detail": {
            "type": "string",
            "description": "What went wrong in this request, in plain words (no personal data or secrets).",
        },
        "instance": {"type": "string", "description": "The path of the request that failed."},
        "request_id": {
            "type": "string",
            "description": "The request's id (also in the X-Request-Id header); quote it to support.",
        },
        "errors": {
            "type": "array",
            "description": "422 only: each invalid field (the input itself is never echoed back)",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"type": ["string", "integer"]},
                        "description": 'Where the invalid value is, e.g. ["body", "card_expiry_month"].',
                    },
                    "msg": {"type": "string", "description": "What is wrong with it, in plain words."},
                    "type": {"type": "string", "description": "A machine code for the error, e.g. missing."},
                },
            },
        },
    },
    "additionalProperties": True,
}


SERVERS = [
    {"url": "http://127.0.0.1:3000", "description": "`make run` (isp-billing serve --demo) on this machine"},
    {
        "url": "https://{api_id}.execute-api.{region}.amazonaws.com/{stage}",
        "description": "A deployed stack's API Gateway (sam deploy prints the URL)",
        "variables": {
            "api_id": {"default": "api-id", "description": "The REST API's id."},
            "region": {"default": "af-south-1", "description": "The AWS region."},
            "stage": {"default": "prod", "description": "The API Gateway stage."},
        },
    },
]
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Supabase access token (HS256, or RS256/ES256 through the JWKS URL); what the "
        "caller may do comes from the database (customers, admin_users.role), never from the token's claims.",
    },
    "cronSecret": {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <CRON_SECRET>`: the shared secret of the job routes (an "
        "admin's JWT of a job role is accepted there too).",
    },
}
JOB_RESULT = "JobRunResult"


def _job_operation(
    folder: str, path: str, options_schema: dict[str, Any], operation_id: str
) -> dict[str, Any]:
    """A job's manual-run route (POST /api/cron/<job>, the backfill's admin route): options, answers."""
    return {
        "post": {
            "tags": ["jobs"],
            "summary": f"Run the {folder.replace('_', ' ')} job now",
            "description": "Authorization: Bearer <CRON_SECRET> or an admin token "
            "(super_admin, billing_admin), checked before the body is read. "
            "The body (at most 16 KiB, JSON nested at most 8 deep) is a JSON object of the job's declared "
            "options; any other field is 422. Answers the run's cron_execution_log row.",
            "operationId": operation_id,
            "security": [{"cronSecret": []}, {"bearer": []}],
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": options_schema}},
            },
            "responses": {
                "200": {
                    "description": "The run's log row (a fanned-out run answers while still running)",
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{JOB_RESULT}"}}
                    },
                },
                "400": {
                    "description": "The body is not UTF-8, not JSON, or nested too deep",
                    "content": _PROBLEM,
                },
                "401": {"description": "No or bad token (whatever the body)", "content": _PROBLEM},
                "403": {"description": "Not allowed to run jobs", "content": _PROBLEM},
                "409": {"description": "The job is already running", "content": _PROBLEM},
                "413": {"description": "The body is larger than 16 KiB", "content": _PROBLEM},
                "422": {
                    "description": "An option is undeclared, mistyped, or holds NUL or control characters",
                    "content": _PROBLEM,
                },
                "500": {"description": "An unexpected failure (quote the request id)", "content": _PROBLEM},
                "503": {"description": "The database is not reachable", "content": _PROBLEM},
            },
        }
    }


def _options_schema(handler: Any) -> dict[str, Any]:
    model = getattr(handler, "options_model", None)
    if model is None:
        return {"type": "object"}
    schema = model.model_json_schema()
    schema.pop("title", None)
    return dict(schema)


def _problem_schemas(operations: dict[str, Any]) -> None:
    """Every error response is RFC 9457 problem+json: point them all at the one Problem schema."""
    for operation in operations.values():
        for status, response in operation.get("responses", {}).items():
            if not status.startswith(("4", "5")):
                continue
            content = response.setdefault("content", {})
            content.pop("application/json", None)
            content["application/problem+json"] = {"schema": {"$ref": "#/components/schemas/Problem"}}


def _operation_ids(folder: str, operations: dict[str, Any], count: int) -> None:
    """Each operation's id is its function folder's name (the name template.yaml and the code use), with the
    method when one function serves several: stable across refactors of the Python function names, and what
    a generated client calls it (`admin_invoice_void`)."""
    for method, operation in operations.items():
        operation["operationId"] = folder if count == 1 else f"{folder}_{method}"


def _refined_parameters(operations: dict[str, Any]) -> None:
    """A route's `openapi_extra` parameters refine the generated ones of the same name and place (FastAPI
    appends them): merged into one, e.g. a webhook's `token` declared required although a missing one is
    answered 401 rather than 422."""
    for operation in operations.values():
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for parameter in operation.get("parameters", []):
            merged.setdefault((parameter["name"], parameter["in"]), {}).update(parameter)
        if "parameters" in operation:
            operation["parameters"] = list(merged.values())


def _plain_parameters(operations: dict[str, Any]) -> None:
    """A query or header parameter is present or absent, never null: `anyOf [T, null]` (pydantic's
    `T | None`) becomes T, with the constraints declared beside it (Idempotency-Key's length and pattern)."""
    for operation in operations.values():
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            members = schema.get("anyOf") or []
            plain = [member for member in members if member != {"type": "null"}]
            if len(members) == 2 and len(plain) == 1:
                rest = {key: value for key, value in schema.items() if key != "anyOf"}
                parameter["schema"] = {**plain[0], **rest}


def _locations(operations: dict[str, Any]) -> None:
    """A redirect's answer is its Location header: declared on every 3xx."""
    for operation in operations.values():
        for status, response in operation.get("responses", {}).items():
            if status.startswith("3"):
                response.setdefault("headers", {})["Location"] = {
                    "description": "Where the resource is (a presigned URL valid for a few minutes).",
                    "required": True,
                    "schema": {"type": "string", "format": "uri"},
                }


def _hoist_definitions(node: Any, schemas: dict[str, Any]) -> Any:
    """Inline `$defs` (a model embedded by hand, e.g. a webhook body schema) become components, and their
    `#/$defs/...` refs point there: every `$ref` of the document resolves from its root."""
    if isinstance(node, dict):
        for name, schema in (node.pop("$defs", None) or {}).items():
            schemas.setdefault(name, _hoist_definitions(schema, schemas))
        return {
            key: (
                value.replace("#/$defs/", "#/components/schemas/")
                if key == "$ref" and isinstance(value, str)
                else _hoist_definitions(value, schemas)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_hoist_definitions(item, schemas) for item in node]
    return node


def _resolved(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _id_in_answer(spec: dict[str, Any], response: dict[str, Any]) -> str | None:
    """Where the answer carries a resource id: `/id` (one resource), `/items/0/id` (a page), `/0/id` (a
    list); None when it does not."""
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if not schema:
        return None
    schema = _resolved(spec, schema)
    if "id" in (schema.get("properties") or {}):
        return "/id"
    items = (schema.get("properties") or {}).get("items")
    if items and "id" in (_resolved(spec, items.get("items") or {}).get("properties") or {}):
        return "/items/0/id"
    if schema.get("type") == "array" and "id" in (
        _resolved(spec, schema.get("items") or {}).get("properties") or {}
    ):
        return "/0/id"
    return None


def _links(spec: dict[str, Any]) -> None:
    """OpenAPI links from what lists or creates resources to what acts on one of them (`P` to `P/{x}...`):
    the id in the answer fills the next operation's path parameter, the rest come from the request. A
    client (and schemathesis' stateful phase, `make fuzz`) can follow them; a new route gets them by its
    path alone."""
    operations = [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    for path, method, operation in operations:
        if method not in ("get", "post") or path.endswith("}"):
            continue
        answers: dict[str, Any] = operation["responses"]
        response: dict[str, Any] = next(
            (answer for code, answer in answers.items() if code in ("200", "201")), {}
        )
        pointer = _id_in_answer(spec, response) if response else None
        if pointer is None:
            continue
        own = set(re.findall(r"\{([^}]+)\}", path))
        for target_path, target_method, target in operations:
            found = re.fullmatch(re.escape(path) + r"/\{([^}]+)\}(/[a-z-]+)?", target_path)
            if found is None or set(re.findall(r"\{([^}]+)\}", target_path)) != own | {found.group(1)}:
                continue
            parameters = {found.group(1): f"$response.body#{pointer}"}
            parameters |= {name: f"$request.path.{name}" for name in sorted(own)}
            response.setdefault("links", {})[target["operationId"]] = {
                "operationId": target["operationId"],
                "parameters": parameters,
                "description": f"{target_method.upper()} {target_path} with the id this answer carries.",
            }


def _job_result_schema() -> dict[str, Any]:
    schema = JobRunResult.model_json_schema(mode="serialization", ref_template="#/components/schemas/{model}")
    return dict(schema)


def build_openapi() -> dict[str, Any]:
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "ISP billing API",
            "version": "0.1.0",
            "description": "Customer dashboard, admin console, jobs and provider webhooks.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": SERVERS,
        "paths": {},
        "components": {
            "schemas": {"Problem": _PROBLEM_SCHEMA, JOB_RESULT: _job_result_schema()},
            "securitySchemes": SECURITY_SCHEMES,
        },
        "security": [{"bearer": []}],
    }
    for function in sorted(functions(), key=lambda f: f.logical_id):
        if not function.routes:
            continue
        folder = Path(function.code_uri).name
        app = getattr(function.load_module(), "app", None)
        if app is None:
            handler = function.load_handler()
            job = getattr(handler, "job_name", None)
            posts = [route for route in function.routes if route.method == "POST"]
            for route in posts if job is not None else []:
                # One run operation per job; a job also reachable under /api/admin keeps that one apart.
                cron = route.path.startswith("/api/cron/") or len(posts) == 1
                operation_id = f"run_{folder}" if cron else f"run_{folder}_admin"
                spec["paths"][route.path] = _job_operation(
                    folder, route.path, _options_schema(handler), operation_id
                )
            continue
        part = copy.deepcopy(app.openapi())  # FastAPI caches it; the steps below change it
        count = sum(len(operations) for operations in part.get("paths", {}).values())
        for path, operations in part.get("paths", {}).items():
            _problem_schemas(operations)
            _operation_ids(folder, operations, count)
            _refined_parameters(operations)
            _plain_parameters(operations)
            _locations(operations)
            spec["paths"].setdefault(path, {}).update(operations)
        for name, schema in part.get("components", {}).get("schemas", {}).items():
            spec["components"]["schemas"].setdefault(name, schema)
    schemas = spec["components"]["schemas"]
    spec["paths"] = _hoist_definitions(dict(sorted(spec["paths"].items())), schemas)
    for name in list(schemas):
        schemas[name] = _hoist_definitions(schemas[name], schemas)
    _links(spec)
    # FastAPI's own validation-error schemas are replaced by Problem above; drop them if now unused.
    text = json.dumps(spec["paths"])
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{unused}" not in text:
            spec["components"]["schemas"].pop(unused, None)
    spec["components"]["schemas"] = dict(sorted(spec["components"]["schemas"].items()))
    return spec


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=False) + "\n"


def write(path: Path = OPENAPI_PATH) -> Path:
    path.write_text(render(build_openapi()), encoding="utf-8")
    return path
