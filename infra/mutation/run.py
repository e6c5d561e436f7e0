"""`make mutation`: mutation testing (cosmic-ray, pinned dev dependency) of the modules where money, roles and
secrets decide, each module's mutants run against the tests that exercise that module (modules.toml).

    python infra/mutation/run.py [module ...] [--fresh]

Per module: a cosmic-ray session in .mutation/<module>.sqlite (resumable: an interrupted run goes on where it
stopped; --fresh starts again), equivalent mutants marked skipped before anything runs, the mutants
executed one at a time (cosmic-ray mutates the file in place and restores it), then the score:
killed / (killed + survived), with every survivor listed. Exits 1 when a module is below the threshold.

Equivalent mutants (no behaviour change) are skipped two ways, both listed in docs/mutation.md:
- automatically: a mutation inside a function's parameter or return annotation in a module with
  `from __future__ import annotations` (annotations stay strings, never evaluated), unless FastAPI inspects
  that function (it is passed to Depends);
- by hand: equivalent.toml, each entry naming the module, the operator, the source line, the column where
  the mutated node starts (0-based, as the survivor list prints it), for a NumberReplacer mutant optionally
  its variant ("+1" or "-1"), and the reason.
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SESSIONS = ROOT / ".mutation"
NOT_USED = "operator not used"
# Replacements of an arithmetic operator by a bitwise one, a shift or a power: cosmic-ray makes eleven
# replacements per operator; these add run time and almost never survive where +, -, *, / are tested.
_SKIPPED_OPERATORS = (
    "ReplaceBinaryOperator_Add_BitOr",
    "ReplaceBinaryOperator_Add_BitAnd",
    "ReplaceBinaryOperator_Add_BitXor",
    "ReplaceBinaryOperator_Add_LShift",
    "ReplaceBinaryOperator_Add_RShift",
    "ReplaceBinaryOperator_Sub_BitOr",
    "ReplaceBinaryOperator_Sub_BitAnd",
    "ReplaceBinaryOperator_Sub_BitXor",
    "ReplaceBinaryOperator_Sub_LShift",
    "ReplaceBinaryOperator_Sub_RShift",
    "ReplaceBinaryOperator_Mul_BitOr",
    "ReplaceBinaryOperator_Mul_BitAnd",
    "ReplaceBinaryOperator_Mul_BitXor",
    "ReplaceBinaryOperator_Mul_LShift",
    "ReplaceBinaryOperator_Mul_RShift",
    "ReplaceBinaryOperator_Div_BitOr",
    "ReplaceBinaryOperator_Div_BitAnd",
    "ReplaceBinaryOperator_Div_BitXor",
    "ReplaceBinaryOperator_Div_LShift",
    "ReplaceBinaryOperator_Div_RShift",
)


@dataclass(frozen=True)
class Module:
    name: str
    path: str
    tests: list[str]


@dataclass
class Score:
    killed: int = 0
    survived: int = 0
    skipped: int = 0
    not_used: int = 0
    incompetent: int = 0

    @property
    def ratio(self) -> float:
        counted = self.killed + self.survived
        return self.killed / counted if counted else 1.0


def _config() -> tuple[float, list[Module]]:
    data = tomllib.loads((HERE / "modules.toml").read_text())
    modules = [Module(name, spec["path"], spec["tests"]) for name, spec in data["modules"].items()]
    return float(data["threshold"]), modules


def _equivalents() -> list[dict[str, str]]:
    return list(tomllib.loads((HERE / "equivalent.toml").read_text()).get("mutant", []))


def _test_command(module: Module) -> str:
    tests = " ".join(module.tests)
    return f"{sys.executable} -m pytest -x -q -p no:cacheprovider -p no:randomly {tests}"


def _write_config(module: Module) -> Path:
    config = SESSIONS / f"{module.name}.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{module.path}"\n'
        "timeout = 120.0\n"
        "excluded-modules = []\n"
        f'test-command = "{_test_command(module)}"\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )
    return config


@cache
def _source(path: Path) -> tuple[list[str], ast.Module]:
    text = path.read_text()
    return text.splitlines(), ast.parse(text)


def _annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Source spans of function annotations that are never evaluated (see the module docstring)."""
    _, tree = _source(path)
    postponed = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )
    if not postponed:
        return []
    inspected = {
        arg.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Depends"
        for arg in node.args
        if isinstance(arg, ast.Name)
    }
    spans: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name in inspected:
            continue
        arguments = node.args
        annotations = [
            arg.annotation
            for arg in [
                *arguments.posonlyargs,
                *arguments.args,
                *arguments.kwonlyargs,
                arguments.vararg,
                arguments.kwarg,
            ]
            if arg is not None and arg.annotation is not None
        ]
        if node.returns is not None:
            annotations.append(node.returns)
        spans.extend(
            ((item.lineno, item.col_offset), (item.end_lineno or item.lineno, item.end_col_offset or 0))
            for item in annotations
        )
    return spans


def _within(
    start: tuple[int, int], end: tuple[int, int], span: tuple[tuple[int, int], tuple[int, int]]
) -> bool:
    return span[0] <= tuple(start) and tuple(end) <= span[1]


def _variant(mutation: Any) -> str | None:
    """NumberReplacer makes two mutants of each number, +1 then -1 (consecutive occurrences)."""
    if mutation.operator_name.endswith("NumberReplacer"):
        return "+1" if mutation.occurrence % 2 == 0 else "-1"
    return None


def _skip_equivalents(db: WorkDB, module: Module) -> None:
    path = ROOT / module.path
    spans = _annotation_spans(path)
    lines, _ = _source(path)
    manual = [entry for entry in _equivalents() if entry["module"] == module.name]
    for item in db.work_items:
        mutation = item.mutations[0]
        operator = mutation.operator_name.removeprefix("core/")
        line = lines[mutation.start_pos[0] - 1].strip()
        reason = None
        if operator in _SKIPPED_OPERATORS:
            reason = NOT_USED
        elif any(_within(mutation.start_pos, mutation.end_pos, span) for span in spans):
            reason = "annotation only (postponed evaluation)"
        for entry in manual:
            same_place = entry["line"].strip() == line and int(entry["column"]) == mutation.start_pos[1]
            if (
                entry["operator"] == operator
                and same_place
                and entry.get("variant") in (None, _variant(mutation))
            ):
                reason = entry["reason"]
        if reason is not None:
            db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=reason))


def _run_module(module: Module, fresh: bool) -> tuple[Score, list[str]]:
    SESSIONS.mkdir(exist_ok=True)
    config = _write_config(module)
    session = SESSIONS / f"{module.name}.sqlite"
    if fresh and session.exists():
        session.unlink()
    cosmic_ray = str(Path(sys.executable).parent / "cosmic-ray")
    if not session.exists():
        baseline = subprocess.run(
            _test_command(module).split(), cwd=ROOT, capture_output=True, text=True, check=False
        )
        if baseline.returncode != 0:
            raise SystemExit(f"{module.name}: the tests fail without any mutant:\n{baseline.stdout[-2000:]}")
        subprocess.run([cosmic_ray, "init", str(config), str(session)], cwd=ROOT, check=True)
        with use_db(str(session)) as db:
            _skip_equivalents(db, module)
    subprocess.run([cosmic_ray, "exec", str(config), str(session)], cwd=ROOT, check=True)
    _assert_restored(module)
    return _score(session, module)


def _assert_restored(module: Module) -> None:
    changed = subprocess.run(["git", "diff", "--quiet", "--", module.path], cwd=ROOT, check=False)
    if changed.returncode != 0:
        raise SystemExit(f"{module.path} differs from git after the run: a mutant was left in place")


def _score(session: Path, module: Module) -> tuple[Score, list[str]]:
    score = Score()
    survivors = []
    lines, _ = _source(ROOT / module.path)
    with use_db(str(session)) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome == WorkerOutcome.SKIPPED and result.output == NOT_USED:
                score.not_used += 1
            elif result.worker_outcome == WorkerOutcome.SKIPPED:
                score.skipped += 1
            elif result.test_outcome == TestOutcome.KILLED or result.worker_outcome != WorkerOutcome.NORMAL:
                score.killed += 1
            elif result.test_outcome == TestOutcome.INCOMPETENT:
                score.incompetent += 1
            else:
                score.survived += 1
                mutation = item.mutations[0]
                row = mutation.start_pos[0]
                survivors.append(
                    f"  line {row} col {mutation.start_pos[1]} {mutation.operator_name.removeprefix('core/')}"
                    f" {_variant(mutation) or ''}"
                    f" #{mutation.occurrence}: {lines[row - 1].strip()}"
                )
    return score, survivors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="module names from modules.toml (default: all)")
    parser.add_argument("--fresh", action="store_true", help="discard earlier sessions and start again")
    args = parser.parse_args(argv)
    threshold, modules = _config()
    chosen = [module for module in modules if not args.modules or module.name in args.modules]
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    failed = False
    report = []
    for module in chosen:
        score, survivors = _run_module(module, args.fresh)
        below = score.ratio < threshold
        failed = failed or below
        report.append(
            f"{module.name:16s} {score.ratio:6.1%} killed {score.killed}, survived {score.survived},"
            f" equivalent {score.skipped}, incompetent {score.incompetent}"
            f" (operator not used: {score.not_used})" + (f"  BELOW {threshold:.0%}" if below else "")
        )
        report.extend(survivors)
    print("\nmutation score per module (killed / behaviour-changing mutants):")
    print("\n".join(report))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
