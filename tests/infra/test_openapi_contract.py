"""What a generated client relies on, held for every operation (new routes included, since the rules are
applied centrally: web.ApiRoute and isp_billing_cli.openapi): every `$ref` resolves, every operation has a
stable readable operationId, no `authorization` header parameter (the security schemes say it), every
success status lists the body it carries, every redirect its Location, every admin route its roles.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from isp_billing_cli.openapi import build_openapi
from isp_billing_cli.template import functions

SPEC = build_openapi()
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if method in HTTP_METHODS
]
JOB_ROUTES = ("/api/cron/", "/api/admin/backfill/")


def _ids(value: object) -> str:
    return str(value) if isinstance(value, str) else ""


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolves(spec: dict[str, Any], ref: str) -> bool:
    if not ref.startswith("#/"):
        return False
    node: Any = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _has_key(node: Any, wanted: str) -> bool:
    if isinstance(node, dict):
        return wanted in node or any(_has_key(value, wanted) for value in node.values())
    if isinstance(node, list):
        return any(_has_key(item, wanted) for item in node)
    return False


def test_the_ref_rule_catches_an_inline_definition():
    # Given a body that refers to a component which only exists as an inline $defs (what FastAPI emitted)
    spec = {
        "paths": {
            "/x": {
                "post": {"requestBody": {"$defs": {"Row": {}}, "items": {"$ref": "#/components/schemas/Row"}}}
            }
        },
        "components": {"schemas": {}},
    }
    # When its refs are resolved from the root / Then that one does not
    assert [ref for ref in _refs(spec) if not _resolves(spec, ref)] == ["#/components/schemas/Row"]


def test_every_ref_resolves_from_the_document_root():
    # Given the spec as served and committed / When every $ref is followed from the root
    refs = list(_refs(SPEC))
    unresolved = sorted({ref for ref in refs if not _resolves(SPEC, ref)})
    # Then each one lands on a schema, and nothing is left as an inline $defs
    assert refs, "no $ref at all: the check would be vacuous"
    assert unresolved == []
    assert not _has_key(SPEC["paths"], "$defs")
    assert "PushedUsageRecord" in SPEC["components"]["schemas"]


def test_every_operation_id_is_its_function_folder_and_unique():
    # Given each function folder's operations
    folders = {Path(f.code_uri).name for f in functions() if f.routes}
    ids = [operation.get("operationId") for _, _, operation in OPERATIONS]
    # Then every operation has an id, readable (snake case), unique, and named after its function folder
    assert None not in ids
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", operation_id) for operation_id in ids)
    unnamed = [
        operation_id
        for operation_id in ids
        if not any(
            operation_id in (folder, f"run_{folder}", f"run_{folder}_admin")
            or operation_id.startswith(f"{folder}_")
            for folder in folders
        )
    ]
    assert unnamed == []
    assert (
        SPEC["paths"]["/api/admin/invoices/{invoice_id}/void"]["post"]["operationId"] == "admin_invoice_void"
    )


@pytest.mark.parametrize("method,path,operation", OPERATIONS, ids=_ids)
def test_no_operation_declares_the_authorization_header_as_a_parameter(method, path, operation):
    # Given an operation / Then its credentials are a security scheme of the document, never an argument
    names = [p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"]
    assert "authorization" not in names
    schemes = set(SPEC["components"]["securitySchemes"])
    for requirement in operation.get("security", SPEC["security"]):
        assert set(requirement) <= schemes


def test_two_security_schemes_bearer_jwt_and_the_cron_secret():
    schemes = SPEC["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        **schemes["bearer"],
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert schemes["cronSecret"]["type"] == "http"
    job_operations = [(path, op) for method, path, op in OPERATIONS if path.startswith(JOB_ROUTES)]
    assert len(job_operations) >= 12
    for path, operation in job_operations:
        assert {"cronSecret": []} in operation["security"], path
    # the provider webhooks authenticate by signature or URL token, not by either scheme
    assert all(op["security"] == [] for _, path, op in OPERATIONS if path.startswith("/api/webhooks/"))


@pytest.mark.parametrize("method,path,operation", OPERATIONS, ids=_ids)
def test_every_success_status_lists_the_body_it_carries(method, path, operation):
    # Given an operation's success and redirect answers
    for status, response in operation["responses"].items():
        code = int(status)
        # Then a 2xx other than 204 declares its body, and a 3xx its Location
        if 200 <= code < 300 and code != 204:
            assert response.get("content"), f"{method} {path} {status} has no body"
        if 300 <= code < 400:
            assert response["headers"]["Location"]["required"] is True


def test_the_uncertain_provider_actions_answer_their_result_with_202():
    for action in ("suspend", "reactivate", "end-now"):
        answer = SPEC["paths"][f"/api/admin/services/{{service_id}}/{action}"]["post"]["responses"]["202"]
        assert answer["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ServiceActionResult"
        }


def test_the_job_routes_answer_the_job_run_model():
    for _method, path, operation in OPERATIONS:
        if path.startswith(JOB_ROUTES):
            schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/JobRunResult"}, path
    result = SPEC["components"]["schemas"]["JobRunResult"]
    assert {"id", "job_name", "status", "records_processed"} <= set(result["required"])


@pytest.mark.parametrize(
    "method,path,operation",
    [o for o in OPERATIONS if o[1].startswith("/api/admin/") and not o[1].startswith(JOB_ROUTES)],
    ids=_ids,
)
def test_every_admin_operation_declares_the_roles_checked_before_its_input(method, path, operation):
    roles = operation.get("x-admin-roles")
    assert roles and set(roles) <= {"super_admin", "billing_admin", "support"}


def test_document_level_fields_and_the_constrained_parameters():
    assert SPEC["info"]["license"]["identifier"] == "Apache-2.0"
    assert SPEC["servers"] and all(server["url"] for server in SPEC["servers"])
    token = next(
        p
        for p in SPEC["paths"]["/api/webhooks/netcash/mandate"]["post"]["parameters"]
        if p["name"] == "token"
    )
    assert token["required"] is True
    for method, path, operation in OPERATIONS:
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "Idempotency-Key":
                schema = parameter["schema"]
                assert (schema["type"], schema["minLength"], schema["maxLength"]) == ("string", 1, 255)
                assert re.fullmatch(schema["pattern"], "a" * 255) and not re.fullmatch(
                    schema["pattern"], "a b"
                )
            if parameter["name"] == "cursor":
                assert parameter["description"].startswith("Opaque"), f"{method} {path}"
                assert "anyOf" not in parameter["schema"]


def test_every_vat_rate_declares_its_pattern():
    rates = [
        prop
        for schema in SPEC["components"]["schemas"].values()
        for name, prop in (schema.get("properties") or {}).items()
        if name == "vat_rate"
    ]
    assert rates and all(prop.get("pattern") for prop in rates)


def _dates_without_pattern(node: Any, where: str, seen: set[str]) -> Iterator[str]:
    """Every date or date-time schema reachable from `node` (following $refs) that is not the strict type."""
    if isinstance(node, dict):
        if node.get("format") in ("date", "date-time") and "pattern" not in node:
            yield where
        ref = node.get("$ref")
        if isinstance(ref, str) and ref not in seen:
            seen.add(ref)
            name = ref.rsplit("/", 1)[-1]
            yield from _dates_without_pattern(SPEC["components"]["schemas"][name], name, seen)
        for key, value in node.items():
            if key != "$ref":
                yield from _dates_without_pattern(value, f"{where}.{key}", seen)
    elif isinstance(node, list):
        for item in node:
            yield from _dates_without_pattern(item, where, seen)


@pytest.mark.parametrize("method,path,operation", OPERATIONS, ids=_ids)
def test_every_date_a_request_carries_is_the_strict_iso_type(method, path, operation):
    # Given what a request to the operation carries (parameters, body, a job's options)
    inputs = {"parameters": operation.get("parameters", []), "body": operation.get("requestBody", {})}
    # Then every date and date-time in it is api_models.IsoDate / IsoDateTime (its pattern: ISO 8601 text,
    # never a number read as a Unix timestamp)
    assert list(_dates_without_pattern(inputs, f"{method} {path}", set())) == []


@pytest.mark.parametrize(
    "path,tag,variants",
    [
        (
            "/api/admin/invoices/{invoice_id}/credit-note",
            "mode",
            {"full": set(), "lines": {"lines"}, "amount": {"amount"}},
        ),
        (
            "/api/admin/review-queue/{item_id}/resolve",
            "decision",
            {"link_existing": {"customer_id"}, "create_new": set()},
        ),
        ("/api/admin/invoices/{invoice_id}/payments", "method", {"eft": {"bank_reference"}, "cash": set()}),
    ],
)
def test_bodies_whose_fields_depend_on_another_say_so_with_a_discriminated_one_of(path, tag, variants):
    # Given a body where one field decides which others are required
    schema = SPEC["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    # Then the schema is a oneOf of one schema per value, with the discriminator mapping each value to it
    assert schema["discriminator"]["propertyName"] == tag
    mapping = schema["discriminator"]["mapping"]
    assert set(mapping) == set(variants)
    assert sorted(member["$ref"] for member in schema["oneOf"]) == sorted(mapping.values())
    for value, required in variants.items():
        variant = SPEC["components"]["schemas"][mapping[value].rsplit("/", 1)[-1]]
        # each variant names its value and requires the fields that value needs
        assert variant["properties"][tag]["const"] == value
        assert {tag, *required} <= set(variant["required"])
        assert variant["additionalProperties"] is False


def test_lists_and_creates_link_to_the_routes_that_act_on_their_resources():
    # Given every link of the spec
    by_id = {op["operationId"]: (path, op) for _, path, op in OPERATIONS}
    links = [
        (operation["operationId"], link)
        for _, _, operation in OPERATIONS
        for response in operation["responses"].values()
        for link in (response.get("links") or {}).values()
    ]
    # Then there are links, each to an existing operation, filling every path parameter it needs
    assert len(links) >= 25
    for source, link in links:
        target_path, _ = by_id[link["operationId"]]
        assert set(link["parameters"]) == set(re.findall(r"\{([^}]+)\}", target_path)), (source, link)
    pairs = {(source, link["operationId"]) for source, link in links}
    assert ("admin_invoices_list", "admin_invoice_credit_note") in pairs
    assert ("customer_payment_method_create", "customer_payment_method_delete") in pairs
    assert ("admin_customer_charges_create", "admin_customer_charge_cancel") in pairs
