"""Read template.yaml: its functions, their handlers and their API routes (CloudFormation tags tolerated)."""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Loads !Ref, !Sub, !GetAtt … as plain {"Fn": value} mappings."""


def _tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {suffix: value}


_CfnLoader.add_multi_constructor("!", _tag)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource path, e.g. /api/admin/services/{id}

    @property
    def pattern(self) -> re.Pattern[str]:
        # A parameter never holds a control character (`%0A` decoded): such a path matches no route (404).
        regex = re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/\\x00-\\x1f\\x7f]+)", re.escape(self.path))
        return re.compile(f"^{regex}\\Z")


@dataclass
class Function:
    logical_id: str
    code_uri: str
    handler: str
    routes: list[Route] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    sqs_queues: list[str] = field(default_factory=list)

    @property
    def module_path(self) -> Path:
        module, _, _ = self.handler.rpartition(".")
        return ROOT / self.code_uri / f"{module.replace('.', '/')}.py"

    def load_module(self) -> ModuleType:
        return _load(self.logical_id, str(self.module_path))

    def load_handler(self) -> Any:
        return getattr(self.load_module(), self.handler.rpartition(".")[2])


@cache
def _load(logical_id: str, path: str) -> ModuleType:
    name = f"isp_billing_functions.{logical_id}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506  # SafeLoader subclass


def functions(path: Path = TEMPLATE_PATH) -> list[Function]:
    found = []
    for logical_id, resource in load_template(path)["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        function = Function(logical_id, props["CodeUri"], props["Handler"])
        for event in (props.get("Events") or {}).values():
            event_props = event.get("Properties", {})
            if event["Type"] == "Api":
                function.routes.append(Route(event_props["Method"].upper(), event_props["Path"]))
            elif event["Type"] in ("ScheduleV2", "Schedule"):
                function.schedules.append(event_props)
            elif event["Type"] == "SQS":
                function.sqs_queues.append(str(event_props.get("Queue")))
        found.append(function)
    return found


def function_by_id(logical_id: str) -> Function:
    for function in functions():
        if function.logical_id == logical_id:
            return function
    known = ", ".join(sorted(f.logical_id for f in functions()))
    raise KeyError(f"no function {logical_id!r} in template.yaml (known: {known})")
