"""The OpenAPI document explains itself: every field a client sees has words, every operation its errors.

The rule for fields: every property of every component schema, and of every object nested inline in one
(array items, anyOf/oneOf/allOf members, nested properties, such as Problem.errors[].loc), carries its OWN
non-empty `description`. A property that is a `$ref` (bare, or inside anyOf/allOf with null) is NOT excused
by the referenced schema's description: that says what the type is, not what the field means in its parent
(ServiceActionResult.service and .action are both objects whose meaning lies in the field). pydantic puts a
Field's description beside the `$ref` (or beside the anyOf), so a `Field(description=...)` satisfies it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from isp_billing_cli.openapi import build_openapi

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return build_openapi()


def _undocumented(schema: dict[str, Any], where: str) -> Iterator[str]:
    """Every property path under `schema` whose own description is missing or blank."""
    for name, prop in (schema.get("properties") or {}).items():
        path = f"{where}.{name}"
        if not str(prop.get("description") or "").strip():
            yield path
        yield from _undocumented_inside(prop, path)
    yield from _undocumented_inside({k: v for k, v in schema.items() if k != "properties"}, where)


def _undocumented_inside(schema: dict[str, Any], where: str) -> Iterator[str]:
    """Inline objects within a schema (not its own properties): array items and union members."""
    items = schema.get("items")
    if isinstance(items, dict):
        yield from _undocumented(items, f"{where}[]")
    for keyword in ("anyOf", "oneOf", "allOf"):
        for member in schema.get(keyword) or []:
            yield from _undocumented(member, where)


def undocumented_fields(spec: dict[str, Any]) -> list[str]:
    schemas = spec.get("components", {}).get("schemas", {})
    return [path for name, schema in schemas.items() for path in _undocumented(schema, name)]


def test_the_rule_catches_a_missing_description_at_every_depth():
    # Given a spec with undocumented fields: top level, a bare $ref, nested in an array item, in a union
    spec = {
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "description": "A thing.",
                    "properties": {
                        "ok": {"type": "string", "description": "Documented."},
                        "blank": {"type": "string", "description": "  "},
                        "bare": {"type": "string"},
                        "other": {"$ref": "#/components/schemas/Other"},
                        "rows": {
                            "type": "array",
                            "description": "Documented list.",
                            "items": {"type": "object", "properties": {"inner": {"type": "integer"}}},
                        },
                        "either": {
                            "description": "Documented union.",
                            "anyOf": [
                                {"type": "object", "properties": {"deep": {"type": "string"}}},
                                {"type": "null"},
                            ],
                        },
                    },
                },
                "Other": {"type": "object", "description": "Has words, but the field still needs its own."},
            }
        }
    }

    # When the rule is applied
    missing = undocumented_fields(spec)

    # Then each undocumented field is named, and nothing documented is
    assert missing == ["Thing.blank", "Thing.bare", "Thing.other", "Thing.rows[].inner", "Thing.either.deep"]


def test_every_field_of_every_schema_is_documented(spec):
    # Given the spec built from every function (what infra/openapi.json is rendered from)
    # When every component schema property, at every depth, is checked for its own description
    missing = undocumented_fields(spec)

    # Then none lacks one
    assert spec["components"]["schemas"], "the spec has no schemas: the check would be vacuous"
    assert missing == [], f"{len(missing)} undocumented field(s); add Field(description=...): {missing}"


def test_every_operation_documents_a_client_error_as_problem_json(spec):
    # Given every operation of the spec
    operations = [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    assert operations, "the spec has no operations: the check would be vacuous"

    # When their documented responses are read
    without_4xx = [
        f"{method.upper()} {path}"
        for method, path, operation in operations
        if not any(status.startswith("4") for status in operation.get("responses", {}))
    ]
    not_problem = [
        f"{method.upper()} {path} {status}"
        for method, path, operation in operations
        for status, response in operation.get("responses", {}).items()
        if status.startswith(("4", "5"))
        and response.get("content", {}).get("application/problem+json", {}).get("schema")
        != {"$ref": "#/components/schemas/Problem"}
    ]

    # Then each documents at least one 4xx, and every error response is the Problem schema
    assert without_4xx == []
    assert not_problem == []


def test_every_parameter_of_every_operation_is_documented():
    # Given the built spec / Then every path, query and header parameter says what it is
    undocumented = [
        f"{method.upper()} {path}: {parameter['in']} {parameter['name']}"
        for path, operations in build_openapi()["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if not str(parameter.get("description", "")).strip()
    ]
    assert undocumented == []
