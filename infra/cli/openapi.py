"""The API's OpenAPI document: every HTTP function's FastAPI spec merged, plus the jobs' cron routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def _job_operation(job: str, path: str, options_schema: dict[str, Any]) -> dict[str, Any]:
    """A job's manual-run route (POST /api/cron/<job>, the backfill's admin route): options, answers."""
    return {
        "post": {
            "tags": ["jobs"],
            "summary": f"Run the {job} job now",
            "description": "Authorization: Bearer <CRON_SECRET> or an admin token "
            "(super_admin, billing_admin), checked before the body is read. "
            "The body (at most 16 KiB, JSON nested at most 8 deep) is a JSON object of the job's declared "
            "options; any other field is 422. Answers the run's cron_execution_log row.",
            "operationId": f"run_{job.replace('-', '_')}"
            + ("" if path.startswith("/api/cron/") else "_admin"),
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": options_schema}},
            },
            "responses": {
                "200": {
                    "description": "The run's log row (a fanned-out run answers while still running)",
                    "content": {"application/json": {"schema": {"type": "object"}}},
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


def build_openapi() -> dict[str, Any]:
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "ISP billing API",
            "version": "0.1.0",
            "description": "Customer dashboard, admin console, jobs and provider webhooks.",
        },
        "paths": {},
        "components": {
            "schemas": {"Problem": _PROBLEM_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
        "security": [{"bearer": []}],
    }
    for function in sorted(functions(), key=lambda f: f.logical_id):
        if not function.routes:
            continue
        app = getattr(function.load_module(), "app", None)
        if app is None:
            handler = function.load_handler()
            job = getattr(handler, "job_name", None)
            for route in function.routes:
                if job is not None and route.method == "POST":
                    spec["paths"][route.path] = _job_operation(job, route.path, _options_schema(handler))
            continue
        part = app.openapi()
        for path, operations in part.get("paths", {}).items():
            _problem_schemas(operations)
            spec["paths"].setdefault(path, {}).update(operations)
        for name, schema in part.get("components", {}).get("schemas", {}).items():
            spec["components"]["schemas"].setdefault(name, schema)
    spec["paths"] = dict(sorted(spec["paths"].items()))
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
