"""Cold import of one API function's module in a fresh process, next to the floor of its heaviest imports.

Run: make perf (or .venv/bin/pytest tests/perf/test_cold_import.py -m perf -s)
"""

import os
import statistics
import subprocess
import sys

import pytest

from isp_billing_cli.template import ROOT

RUNS = 10
# As Lambda imports a handler: the function folder and the layer on sys.path, `import app`.
FUNCTION_IMPORT = (
    "import sys, time; sys.path[:0] = [{folder!r}, {layer!r}]; t = time.perf_counter(); import app; "
    "print(time.perf_counter() - t)"
)
FLOOR_IMPORT = (
    "import time; t = time.perf_counter(); import fastapi, pydantic, psycopg; print(time.perf_counter() - t)"
)


def _median_seconds(code: str, **extra_env: str) -> float:
    env = {
        **os.environ,
        "STAGE": "local",
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "JWT_SECRET": "perf-secret-0123456789-0123456789",
        "PYTHONDONTWRITEBYTECODE": "1",
        **extra_env,
    }
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd="/"
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


@pytest.mark.perf
def test_cold_import_of_an_api_function():
    folder = str(ROOT / "functions" / "customer_services_list")
    layer = str(ROOT / "layers" / "core" / "python")
    # Interleave nothing: warm the OS file cache once, then measure each side RUNS times.
    _median_seconds(FLOOR_IMPORT)
    floor = _median_seconds(FLOOR_IMPORT)
    code = FUNCTION_IMPORT.format(folder=folder, layer=layer)
    function = _median_seconds(code)
    # As on Lambda with `Tracing: Active`: the X-Ray tracer is built at import.
    traced = _median_seconds(
        code, AWS_LAMBDA_FUNCTION_NAME="CustomerServicesListFunction", POWERTOOLS_TRACE_DISABLED="false"
    )
    print(
        f"\ncold import, median of {RUNS}: floor (fastapi, pydantic, psycopg) {floor * 1000:.0f} ms; "
        f"CustomerServicesListFunction app {function * 1000:.0f} ms (ratio {function / floor:.2f}x); "
        f"with X-Ray tracing on {traced * 1000:.0f} ms (ratio {traced / floor:.2f}x)"
    )
    assert function > 0 and floor > 0 and traced > 0
