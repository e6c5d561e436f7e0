"""The OpenAPI lists every status a route can really answer, and every POST its Idempotency-Key.

What the mapping can give any route (web.ApiRoute): 422 and 500/503 always; 401/403 where a token is
checked; 400 where a body is parsed; 404 where a path names a resource; 409 on writes (state conflicts,
unique values). schemathesis (`make fuzz`) checks real answers against these declarations.
"""

from __future__ import annotations

import pytest

from isp_billing_cli.openapi import build_openapi

SPEC = build_openapi()
OPERATIONS = [
    (method.upper(), path, operation)
    for path, operations in SPEC["paths"].items()
    for method, operation in operations.items()
]
JOB_ROUTES = ("/api/cron/", "/api/admin/backfill/")
WEBHOOKS = ("/api/webhooks/",)


def _ids(value: object) -> str:
    return str(value) if isinstance(value, str) else ""


def test_the_backfill_route_is_in_the_spec():
    assert "post" in SPEC["paths"]["/api/admin/backfill/orders"]


@pytest.mark.parametrize("method,path,operation", OPERATIONS, ids=_ids)
def test_every_operation_declares_what_the_mapping_can_answer(method, path, operation):
    # Given an operation of the merged spec
    declared = set(operation["responses"])
    expected = {"422", "500", "503"}
    if operation.get("security", SPEC["security"]):
        expected |= {"401", "403"}
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
        expected.add("400")
    if "{" in path:
        expected.add("404")
    if method in {"POST", "PATCH", "PUT", "DELETE"}:
        expected.add("409")
    # Then it declares each of them, all as problem+json
    assert expected <= declared, f"{method} {path} lacks {sorted(expected - declared)}"
    for status in declared:
        if status.startswith(("4", "5")):
            assert "application/problem+json" in operation["responses"][status].get("content", {}), status


@pytest.mark.parametrize("method,path,operation", [o for o in OPERATIONS if o[0] == "POST"], ids=_ids)
def test_every_api_post_declares_the_idempotency_key_header(method, path, operation):
    if path.startswith(JOB_ROUTES + WEBHOOKS):
        pytest.skip("job routes and provider webhooks: see docs/adr/0036-idempotency-key-on-every-post.md")
    headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
    assert "Idempotency-Key" in headers
