"""The template's two network shapes (in a VPC for RDS Proxy, outside for Supabase) and the layer's tzdata."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from isp_billing_cli.template import ROOT, TEMPLATE_PATH, load_template

TEMPLATE = load_template()
SUBNETS = "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb"
SECURITY_GROUPS = "sg-0cccccccccccccccc"


def _resolve(node: Any, parameters: dict[str, Any]) -> Any:
    """Evaluate the intrinsics the VPC wiring uses (Ref, Join, Equals, Not, And, If) for given parameters."""
    if isinstance(node, list):
        return [_resolve(item, parameters) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) != 1:
        return {key: _resolve(value, parameters) for key, value in node.items()}
    ((name, value),) = node.items()
    if name == "Ref":
        return parameters.get(value, {"Ref": value})
    if name == "Join":
        return value[0].join(_resolve(value[1], parameters))
    if name == "Equals":
        left, right = _resolve(value, parameters)
        return left == right
    if name == "Not":
        return not _resolve(value[0], parameters)
    if name == "And":
        return all(_resolve(item, parameters) for item in value)
    if name == "Condition":
        return _resolve(TEMPLATE["Conditions"][value], parameters)
    if name == "If":
        condition, when_true, when_false = value
        chosen = when_true if _resolve(TEMPLATE["Conditions"][condition], parameters) else when_false
        return _resolve(chosen, parameters)
    return node


def _vpc_config(parameters: dict[str, Any]) -> Any:
    return _resolve(TEMPLATE["Globals"]["Function"]["VpcConfig"], parameters)


def _functions() -> dict[str, Any]:
    return {
        logical_id: resource
        for logical_id, resource in TEMPLATE["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def test_without_vpc_parameters_no_function_is_in_a_vpc():
    # Given the parameters' defaults (Supabase: no VPC) / When the global VpcConfig is resolved
    parameters = {"VpcSubnetIds": [""], "VpcSecurityGroupIds": [""]}
    # Then it is AWS::NoValue: the property is left out of every function
    assert _vpc_config(parameters) == {"Ref": "AWS::NoValue"}
    assert TEMPLATE["Parameters"]["VpcSubnetIds"]["Default"] == ""
    assert TEMPLATE["Parameters"]["VpcSecurityGroupIds"]["Default"] == ""


def test_with_subnets_and_security_groups_every_function_is_in_the_vpc():
    # Given subnet and security group ids (RDS / RDS Proxy in a VPC)
    parameters = {"VpcSubnetIds": SUBNETS.split(","), "VpcSecurityGroupIds": SECURITY_GROUPS.split(",")}
    # When the global VpcConfig is resolved / Then it carries both lists
    assert _vpc_config(parameters) == {
        "SubnetIds": SUBNETS.split(","),
        "SecurityGroupIds": SECURITY_GROUPS.split(","),
    }
    # And no function overrides it, so every function (HTTP and job) gets it, and SAM attaches
    # AWSLambdaVPCAccessExecutionRole to each function's role because the property is present
    overriding = [name for name, resource in _functions().items() if "VpcConfig" in resource["Properties"]]
    assert overriding == []
    assert len(_functions()) > 10


def test_subnets_without_security_groups_leave_the_functions_outside():
    # Given only one of the two lists (a half-filled deployment) / Then no VpcConfig (not an invalid one)
    parameters = {"VpcSubnetIds": SUBNETS.split(","), "VpcSecurityGroupIds": [""]}
    assert _vpc_config(parameters) == {"Ref": "AWS::NoValue"}


@pytest.mark.parametrize("shape", ["outside_vpc", "in_vpc"])
def test_cfn_lint_passes_for_both_network_shapes(tmp_path: Path, shape: str):
    # Given the template, as is (no VPC) or with VPC parameter defaults filled in
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    if shape == "in_vpc":
        text = text.replace(
            '  VpcSubnetIds:\n    Type: CommaDelimitedList\n    Default: ""',
            f'  VpcSubnetIds:\n    Type: CommaDelimitedList\n    Default: "{SUBNETS}"',
        ).replace(
            '  VpcSecurityGroupIds:\n    Type: CommaDelimitedList\n    Default: ""',
            f'  VpcSecurityGroupIds:\n    Type: CommaDelimitedList\n    Default: "{SECURITY_GROUPS}"',
        )
        assert SUBNETS in text and SECURITY_GROUPS in text
    target = tmp_path / "template.yaml"
    target.write_text(text, encoding="utf-8")
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
    # When cfn-lint checks it / Then it reports nothing
    result = subprocess.run([cfn_lint, str(target)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_layer_ships_tzdata_pinned_like_pyproject():
    # Given the layer's requirements / Then tzdata is pinned there (the pins-agree test covers pyproject)
    lines = (ROOT / "layers/core/requirements.txt").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("tzdata==") for line in lines)


def test_the_business_zone_loads_without_the_system_zone_files():
    # Given a Python whose zoneinfo search path is empty (as on an image without /usr/share/zoneinfo)
    environment = {**os.environ, "PYTHONTZPATH": ""}
    # When the clock module loads Africa/Johannesburg
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import zoneinfo; assert zoneinfo.TZPATH == (), zoneinfo.TZPATH;"
            "from isp_billing.clock import SAST, sast_now; print(sast_now().utcoffset())",
        ],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    # Then it comes from the tzdata package: UTC+2
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2:00:00"
