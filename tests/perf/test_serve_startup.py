"""`isp-billing serve --demo` start-up: time to the first answered request on a fresh and on an existing data
folder, next to the floor of starting the embedded PostgreSQL alone on the same kind of folder.

Run: make perf (or .venv/bin/pytest tests/perf/test_serve_startup.py -m perf -s)
"""

import shutil
import subprocess
import sys
import tempfile

import pytest

from tests.e2e.demo_server import DemoServer

PG_START = (
    "import sys, time, warnings; warnings.simplefilter('ignore'); t = time.perf_counter(); import pgserver; "
    "s = pgserver.get_server(sys.argv[1], cleanup_mode='stop'); s.psql('select 1'); "
    "print(time.perf_counter() - t)"
)


def _floor(folder: str) -> float:
    out = subprocess.run([sys.executable, "-c", PG_START, folder], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _first_response(folder: str) -> float:
    server = DemoServer(folder)
    try:
        return server.first_response_seconds()
    finally:
        server.stop()


@pytest.mark.perf
def test_serve_demo_time_to_first_response():
    serve_dir, floor_dir = tempfile.mkdtemp(prefix="ispb-perf-"), tempfile.mkdtemp(prefix="ispb-floor-")
    try:
        floor_fresh = _floor(floor_dir + "/pg")
        fresh = _first_response(serve_dir)
        floor_existing = _floor(floor_dir + "/pg")
        existing = _first_response(serve_dir)
    finally:
        shutil.rmtree(serve_dir, ignore_errors=True)
        shutil.rmtree(floor_dir, ignore_errors=True)
    print(
        f"\nserve --demo first response: fresh data folder {fresh:.2f}s vs embedded PostgreSQL alone "
        f"{floor_fresh:.2f}s (ratio {fresh / floor_fresh:.2f}x); existing folder {existing:.2f}s vs "
        f"{floor_existing:.2f}s (ratio {existing / floor_existing:.2f}x)"
    )
    assert fresh > 0 and existing > 0
