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
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
    },
    "additionalProperties": True,
}


def _cron_operation(job: str) -> dict[str, Any]:
    return {
        "post": {
            "tags": ["jobs"],
            "summary": f"Run the {job} job now",
            "description": "Authorization: Bearer <CRON_SECRET> or an admin token "
            "(super_admin, billing_admin). "
            "The body is a JSON object of job options. Answers the finished cron_execution_log row.",
            "operationId": f"run_{job.replace('-', '_')}",
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "200": {
                    "description": "The run's log row",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "401": {"description": "No or bad token", "content": _PROBLEM},
                "403": {"description": "Not allowed to run jobs", "content": _PROBLEM},
                "409": {"description": "The job is already running", "content": _PROBLEM},
            },
        }
    }


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
            for route in function.routes:
                if route.path.startswith("/api/cron/"):
                    spec["paths"][route.path] = _cron_operation(route.path.rsplit("/", 1)[1])
            continue
        part = app.openapi()
        for path, operations in part.get("paths", {}).items():
            spec["paths"].setdefault(path, {}).update(operations)
        for name, schema in part.get("components", {}).get("schemas", {}).items():
            spec["components"]["schemas"].setdefault(name, schema)
    spec["paths"] = dict(sorted(spec["paths"].items()))
    spec["components"]["schemas"] = dict(sorted(spec["components"]["schemas"].items()))
    return spec


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=False) + "\n"


def write(path: Path = OPENAPI_PATH) -> Path:
    path.write_text(render(build_openapi()), encoding="utf-8")
    return path
