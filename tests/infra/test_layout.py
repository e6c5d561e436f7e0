"""The layer's shape: plumbing at the top of `isp_billing`, one package per business capability.

- Plumbing (the top-level modules) never imports a capability, and nothing in the layer imports `web`
  but the plumbing that builds the app.
- A capability imports another only through the names that package lists in `__all__` (its public names).
- The layer's modules import each other without a circle.
Imports inside functions and under `if TYPE_CHECKING:` count too, except where noted: a circle is judged on
module-level imports only, since those are the ones that run at import time.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from isp_billing_cli.template import ROOT

LAYER = ROOT / "layers/core/python"
PACKAGE = LAYER / "isp_billing"
WEB_BUILDERS = {"isp_billing.web", "isp_billing.idempotent_routes"}
# Packages of plumbing: they serve every capability and import none.
PLUMBING_PACKAGES = {"clock", "jobs", "providers"}


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    target: str  # dotted module name (a submodule where `from pkg import sub` names one)
    name: str | None  # the name taken from `target`, for `from target import name`
    top_level: bool


def _module_name(path: Path) -> str:
    parts = path.relative_to(LAYER).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    path = LAYER.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports() -> Iterator[Import]:
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        tree = ast.parse(path.read_text())
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("isp_billing"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    if _is_module(sub):
                        yield Import(importer, sub, None, id(node) in top)
                    else:
                        yield Import(importer, node.module, alias.name, id(node) in top)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("isp_billing"):
                        yield Import(importer, alias.name, None, id(node) in top)


def _package(dotted: str) -> str | None:
    """`isp_billing.billing.run` -> "billing"; a top-level module -> None."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and (PACKAGE / parts[1] / "__init__.py").is_file() else None


def _capability(dotted: str) -> str | None:
    package = _package(dotted)
    return None if package in PLUMBING_PACKAGES else package


def _public_names(package: str) -> set[str]:
    """The names a package's __init__ lists in `__all__`: its modules or names others may import."""
    tree = ast.parse((PACKAGE / package / "__init__.py").read_text())
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if isinstance(target, ast.Name) and target.id == "__all__" and node.value is not None:  # type: ignore[attr-defined]
            return set(ast.literal_eval(node.value))  # type: ignore[attr-defined]
    raise AssertionError(f"isp_billing/{package}/__init__.py declares no __all__")


PACKAGES = sorted(path.parent.name for path in PACKAGE.glob("*/__init__.py"))
IMPORTS = list(_imports())


def test_the_layer_has_one_package_per_capability_and_no_flat_folders():
    # Given the layer's packages
    # Then the old flat folders are gone and every package declares its public names
    assert not {"services", "repositories", "models"} & set(PACKAGES)
    for package in PACKAGES:
        _public_names(package)


def test_plumbing_never_imports_a_capability():
    # Given every import made by a top-level module (plumbing)
    wrong = [
        f"{i.importer} imports {i.target}"
        for i in IMPORTS
        if _capability(i.importer) is None and _capability(i.target) is not None
    ]
    # Then none reaches into a capability package
    assert wrong == []


def test_only_the_app_builders_import_web():
    wrong = [i.importer for i in IMPORTS if i.target == "isp_billing.web" and i.importer not in WEB_BUILDERS]
    assert wrong == []


def test_a_package_imports_another_only_through_its_public_names():
    # Given every import from one package of the layer into another
    wrong = []
    for i in IMPORTS:
        source, target = _package(i.importer), _package(i.target)
        if target is None or source == target:
            continue
        # When the imported thing is a module of the package (or a name of its __init__)
        parts = i.target.split(".")
        public = parts[2] if len(parts) > 2 else i.name
        if public is None:  # `from isp_billing import jobs`: the package, used by its public names
            continue
        # Then the package lists it among its public names
        if public not in _public_names(target):
            wrong.append(f"{i.importer} imports {i.target}{'.' + i.name if i.name else ''}")
    assert wrong == []


def test_the_layers_modules_import_each_other_without_a_circle():
    # Given the module-level import graph (a package's __init__ re-exporting its own modules is not a circle)
    graph: dict[str, set[str]] = {}
    for i in IMPORTS:
        if i.top_level and i.importer != i.target and not i.target.startswith(i.importer + "."):
            graph.setdefault(i.importer, set()).add(i.target)
    # When it is walked depth first
    circles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # Then there is none (jobs.runner and jobs.fanout once imported each other)
    assert circles == []


def test_every_mutation_module_and_its_tests_exist():
    # Given infra/mutation/modules.toml, which names files by path
    modules = tomllib.loads((ROOT / "infra/mutation/modules.toml").read_text())["modules"]
    # Then every rule module and every test it names is where it says
    missing = [
        path
        for module in modules.values()
        for path in [module["path"], *module["tests"]]
        if not (ROOT / path).is_file()
    ]
    assert modules and missing == []


def test_every_package_of_the_layer_is_in_the_distribution():
    # Given pyproject.toml's explicit package list (a wheel carries only what it names)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = {name for name in pyproject["tool"]["setuptools"]["packages"] if name.startswith("isp_billing.")}
    # Then it names every package folder of the layer
    on_disk = {_module_name(path.parent / "__init__.py") for path in PACKAGE.rglob("__init__.py")} - {
        "isp_billing"
    }
    assert listed == on_disk
