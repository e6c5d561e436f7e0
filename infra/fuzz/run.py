"""`make fuzz`: schemathesis against `isp-billing serve --demo`, as each demo role and without a token.

Starts the demo server on a free local port (tests/e2e/demo_server.py: a fresh data folder, the printed
tokens), then runs one bounded schemathesis pass per caller against its /openapi.json with the checks
not_a_server_error, status_code_conformance, content_type_conformance and response_schema_conformance.
Then a stateful pass per caller that owns data (the customer and each admin role): sequences that follow the
spec's links (a list's or a create's id into the routes that act on that resource:
isp_billing_cli.openapi._links), with its own, shorter time budget.
Bounded by examples per operation and by time per pass, so the whole run stays within a few minutes on two
cores. Exits non-zero when any pass reports a finding. Traffic goes to 127.0.0.1 only.

    .venv/bin/python infra/fuzz/run.py [--max-examples N] [--max-time SECONDS] [--seed S]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.e2e.demo_server import demo_server  # noqa: E402

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# The callers: each demo role's token (names as `serve --demo` prints them), then no token at all.
CALLERS = ("CUSTOMER_TOKEN", "ADMIN_TOKEN", "BILLING_ADMIN_TOKEN", "SUPPORT_TOKEN", "CRON_SECRET", None)
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")


# The callers whose lists and creates return ids the links can follow (the cron secret and no token see none).
STATEFUL_CALLERS = ("CUSTOMER_TOKEN", "ADMIN_TOKEN", "BILLING_ADMIN_TOKEN", "SUPPORT_TOKEN")


def _pass(
    base: str,
    caller: str | None,
    token: str | None,
    args: argparse.Namespace,
    phases: str = "examples,coverage,fuzzing",
    max_time: int | None = None,
) -> int:
    command = [
        SCHEMATHESIS,
        "run",
        f"{base}/openapi.json",
        # The spec's own servers name the default local port and a deployed stack; this server is elsewhere.
        "--url",
        base,
        "--checks",
        CHECKS,
        "--max-examples",
        str(args.max_examples),
        "--max-time",
        str(max_time or args.max_time),
        "--seed",
        str(args.seed),
        # One worker: with threads, hypothesis' lambda-source cache trips Python 3.11's AST recursion guard
        # ("AST constructor recursion depth mismatch"), an error of the tool, not a finding.
        "--workers",
        "1",
        "--phases",
        phases,
        "--generation-database",
        "none",
        "--request-timeout",
        "20",
        "--no-color",
        # The local-only clock route moves this server's time for every other request: fuzzing it would
        # make the other passes test a random year. It has its own tests.
        "--exclude-path",
        "/api/admin/clock",
    ]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    print(f"== schemathesis ({phases}) as {caller or 'no token'}", flush=True)
    started = time.perf_counter()
    result = subprocess.run(command, check=False)  # noqa: S603
    print(
        f"== {caller or 'no token'}: exit {result.returncode} in {time.perf_counter() - started:.0f}s",
        flush=True,
    )
    return result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--max-time", type=int, default=30, help="seconds per caller pass")
    parser.add_argument("--stateful-time", type=int, default=15, help="seconds per stateful pass")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    started = time.perf_counter()
    failures = []
    with demo_server("isp-billing-fuzz-") as server:
        for caller in CALLERS:
            token = server.values.get(caller) if caller else None
            if caller and not token:
                print(f"serve --demo printed no {caller}", file=sys.stderr)
                return 2
            if _pass(server.base, caller, token, args) != 0:
                failures.append(caller or "no token")
        for caller in STATEFUL_CALLERS:
            token = server.values[caller]
            if _pass(server.base, caller, token, args, "stateful", args.stateful_time) != 0:
                failures.append(f"{caller} (stateful)")
    passes = len(CALLERS) + len(STATEFUL_CALLERS)
    print(f"fuzz: {passes} passes in {time.perf_counter() - started:.0f}s; findings in: {failures or 'none'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
