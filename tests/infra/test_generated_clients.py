"""A TypeScript client generated from the spec compiles a customer's and an admin's journey under
`tsc --strict`, and Redocly lints the spec (recommended-strict: any problem fails). The npm packages are
pinned in infra/clients/package-lock.json and installed from it (`make clients`, or here with `npm ci`).
Skipped, saying so, only where Node is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from isp_billing_cli.openapi import build_openapi, render

CLIENTS = Path(__file__).resolve().parents[2] / "infra" / "clients"
BIN = CLIENTS / "node_modules" / ".bin"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="Node.js (node and npm) is not installed: the generated TypeScript client and the Redocly lint "
    "of the spec are not checked on this machine",
)


def _run(*command: str | Path, cwd: Path = CLIENTS, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def installed() -> Path:
    """The pinned packages, installed from the lockfile when missing or older than it."""
    stamp = CLIENTS / "node_modules" / ".package-lock.json"
    lock = CLIENTS / "package-lock.json"
    if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
        result = _run("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
        assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"
    return BIN


@pytest.fixture(scope="module")
def spec_file(installed: Path) -> Iterator[Path]:
    """The spec as the code builds it (what `make openapi` commits and `/openapi.json` serves)."""
    folder = Path(tempfile.mkdtemp(prefix=".build-", dir=CLIENTS))
    path = folder / "openapi.json"
    path.write_text(render(build_openapi()), encoding="utf-8")
    yield path
    shutil.rmtree(folder, ignore_errors=True)


def test_a_generated_typescript_client_compiles_the_journeys_under_strict(installed, spec_file):
    # Given a TypeScript client generated from the spec next to the journeys that use it
    build = spec_file.parent
    generated = _run(installed / "openapi-typescript", spec_file, "-o", build / "api.ts")
    assert generated.returncode == 0, f"openapi-typescript failed:\n{generated.stdout}\n{generated.stderr}"
    shutil.copy(CLIENTS / "journey" / "journey.ts", build / "journey.ts")
    (build / "tsconfig.json").write_text(
        '{"extends": "../tsconfig.json", "include": ["*.ts"]}', encoding="utf-8"
    )

    # When tsc --strict compiles them
    compiled = _run(installed / "tsc", "-p", build / "tsconfig.json")

    # Then there is no error at all
    assert compiled.returncode == 0, f"tsc --strict:\n{compiled.stdout}\n{compiled.stderr}"


def test_redocly_finds_no_problem_in_the_spec(installed, spec_file):
    # Given the spec / When Redocly lints it with every recommended rule as an error
    linted = _run(installed / "redocly", "lint", spec_file, "--config", CLIENTS / "redocly.yaml")
    # Then it passes
    assert linted.returncode == 0, f"redocly lint:\n{linted.stdout}\n{linted.stderr}"
    assert "valid" in linted.stdout + linted.stderr
