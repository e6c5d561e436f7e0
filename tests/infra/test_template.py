"""template.yaml and the code agree: lint, routes both ways, handlers, layer pins, schedules, OpenAPI."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from isp_billing_cli.openapi import OPENAPI_PATH, build_openapi, render
from isp_billing_cli.template import ROOT, functions, load_template

FUNCTIONS = functions()
RESOURCES = load_template()["Resources"]


def test_cfn_lint_passes():
    # Given the template / When cfn-lint checks it / Then it reports nothing
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
    result = subprocess.run(
        [cfn_lint, str(ROOT / "template.yaml")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.logical_id)
def test_every_handler_file_exists_and_exposes_its_handler(function):
    assert function.module_path.is_file(), f"{function.module_path} is missing"
    assert callable(function.load_handler())


@pytest.mark.parametrize(
    "function", [f for f in FUNCTIONS if getattr(f.load_module(), "app", None)], ids=lambda f: f.logical_id
)
def test_an_http_function_serves_exactly_its_template_routes(function):
    # Given the function's FastAPI app and its Api events in the template
    app = function.load_module().app
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    declared = {(route.method, route.path) for route in function.routes}
    # Then each declares the other's routes, no more, no less
    assert served == declared


def test_every_route_belongs_to_exactly_one_function():
    routes = [(route.method, route.path) for function in FUNCTIONS for route in function.routes]
    assert len(routes) == len(set(routes)), "a route is declared by two functions"


def test_function_folders_and_template_functions_match():
    folders = {path.name for path in (ROOT / "functions").iterdir() if (path / "app.py").is_file()}
    declared = {Path(function.code_uri).name for function in FUNCTIONS}
    assert folders == declared


def test_job_functions_have_a_timezone_schedule_and_a_manual_route():
    for function in FUNCTIONS:
        if not function.schedules:
            continue
        for schedule in function.schedules:
            assert schedule["ScheduleExpressionTimezone"] == "Africa/Johannesburg"
        assert any(
            route.path.startswith("/api/cron/") and route.method == "POST" for route in function.routes
        )


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.logical_id)
def test_every_function_has_a_log_group_with_retention(function):
    groups = [
        resource
        for resource in RESOURCES.values()
        if resource["Type"] == "AWS::Logs::LogGroup"
        and f"${{{function.logical_id}}}" in str(resource["Properties"]["LogGroupName"])
    ]
    assert len(groups) == 1 and "RetentionInDays" in groups[0]["Properties"]


def test_functions_get_no_wildcard_permissions():
    for logical_id, resource in RESOURCES.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for policy in resource["Properties"].get("Policies", []):
            assert "Statement" not in str(policy) or "'Resource': '*'" not in str(policy), logical_id
            assert policy not in ("AdministratorAccess", "AWSLambda_FullAccess"), logical_id


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = re.split(r"==", line)
            pins[re.sub(r"\[.*\]", "", name).lower()] = version
    return pins


def test_layer_requirements_pin_the_same_versions_as_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    from_pyproject = _pins(pyproject["project"]["dependencies"])
    from_layer = _pins((ROOT / "layers/core/requirements.txt").read_text().splitlines())
    assert from_layer == from_pyproject


def test_the_committed_openapi_matches_the_code():
    # Given the spec built from every function / Then it equals infra/openapi.json (run `make openapi`)
    assert OPENAPI_PATH.read_text() == render(build_openapi()), "infra/openapi.json is stale: make openapi"


def test_money_fields_are_strings_in_the_openapi():
    schemas = build_openapi()["components"]["schemas"]
    for name in ("CustomerService", "BillingSettings"):
        for field, schema in schemas[name]["properties"].items():
            if field in ("monthly_price", "credit_balance"):
                assert schema["type"] == "string", (name, field)
