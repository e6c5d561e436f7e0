"""`isp-billing`: run the backend locally (embedded PostgreSQL by default), migrate, seed, invoke, export."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

LOCAL_CRON_SECRET = "local-development-cron-secret"  # noqa: S105


def _local_environment() -> str:
    """Point everything at the local database and local development secrets; returns the database URL."""
    from isp_billing.settings import LOCAL_DEV_JWT_SECRET, reset_settings_cache
    from isp_billing_cli.database import ensure_database_url

    url = ensure_database_url()
    os.environ.setdefault("STAGE", "local")
    os.environ.setdefault("JWT_SECRET", LOCAL_DEV_JWT_SECRET)
    os.environ.setdefault("CRON_SECRET", LOCAL_CRON_SECRET)
    # A dashboard under development (Vite's default port) may call the local API from the browser.
    os.environ.setdefault("CORS_ALLOWED_ORIGINS", "http://localhost:5173,http://127.0.0.1:5173")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "IspBilling")
    reset_settings_cache()
    return url


def _serve_as_runtime_role(owner_url: str) -> str:
    """The URL the local server's handlers use: RUNTIME_DATABASE_URL when set, else the runtime role on the
    same server, created here (no password: local trust authentication). Falls back to the owner's URL with
    a warning when the role cannot be created or cannot log in without a password."""
    import psycopg

    from isp_billing.settings import reset_settings_cache
    from isp_billing_cli.runtime_role import create_runtime_role, runtime_url

    url = os.environ.get("RUNTIME_DATABASE_URL")
    if not url:
        url = runtime_url(owner_url)
        try:
            create_runtime_role(owner_url)
            psycopg.connect(url, connect_timeout=5).close()
        except psycopg.Error as error:
            print(
                f"warning: serving as the migrating user: the runtime role is not usable here"
                f" ({type(error).__name__}); set RUNTIME_DATABASE_URL (see README, Deployment)",
                file=sys.stderr,
            )
            return owner_url
    os.environ["DATABASE_URL"] = url
    reset_settings_cache()
    return url


def cmd_create_runtime_role(args: argparse.Namespace) -> int:
    from isp_billing_cli.runtime_role import create_runtime_role, render_sql

    password = os.environ.get(args.password_env) if args.password_env else None
    if args.password_env and not password:
        print(f"isp-billing create-runtime-role: {args.password_env} is empty", file=sys.stderr)
        return 2
    if args.print_sql:
        print(render_sql(args.name, password), end="")
        return 0
    create_runtime_role(_local_environment(), args.name, password)
    print(f"runtime role {args.name} ready: it owns nothing and switches to authenticated / service_role")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from isp_billing_cli.doctor import run_doctor

    embedded = not os.environ.get("DATABASE_URL")
    url = _local_environment()
    if embedded:  # check what the local server's handlers would use
        url = _serve_as_runtime_role(url)
    return run_doctor(url, as_json=args.json)


def cmd_migrate(_: argparse.Namespace) -> int:
    from isp_billing_cli.migrate import migrate

    applied = migrate(_local_environment())
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from isp_billing_cli.demo import seed_demo
    from isp_billing_cli.migrate import migrate

    if not args.demo:
        print("nothing to seed: pass --demo", file=sys.stderr)
        return 2
    url = _local_environment()
    migrate(url)
    seed_demo(url)
    print("demo data loaded")
    return 0


def _print_demo_tokens() -> None:
    from isp_billing_cli.demo import ADMINS, DEMO_ADMIN_AUTH_ID, DEMO_CUSTOMER_AUTH_ID, mint_token

    print(f"CUSTOMER_TOKEN={mint_token(DEMO_CUSTOMER_AUTH_ID)}")
    print(f"ADMIN_TOKEN={mint_token(DEMO_ADMIN_AUTH_ID)}")
    for _, auth_id, _, _, role in ADMINS[1:]:
        print(f"{role.upper()}_TOKEN={mint_token(auth_id)}")
    print(f"CRON_SECRET={LOCAL_CRON_SECRET}")


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from isp_billing.settings import reset_settings_cache
    from isp_billing_cli.demo import seed_demo
    from isp_billing_cli.gateway import create_gateway
    from isp_billing_cli.migrate import migrate

    started = time.perf_counter()
    if args.today is not None:
        from isp_billing import clock

        clock.move_to_date(args.today)
        print(f"clock moved to {clock.sast_now():%Y-%m-%d %H:%M} SAST")
    url = _local_environment()
    migrate(url)
    base = f"http://{args.host}:{args.port}"
    if args.demo:
        from isp_billing_cli.demo_providers import start_demo_providers

        seed_demo(url)
        providers = start_demo_providers(base)
        print(f"fake NetCash on {providers.netcash.url}, fake Interstellio on {providers.interstellio.url}")
        _print_demo_tokens()
    runtime = _serve_as_runtime_role(url)
    if runtime != url:
        print("handlers connect as the runtime role isp_billing_runtime (owns nothing)")
    os.environ.setdefault("PUBLIC_API_BASE_URL", base)  # links in e-mails point at this server
    reset_settings_cache()
    app = create_gateway()
    from isp_billing.notifications.email_transport import outbox_folder

    print(f"e-mails (POST /api/cron/send-notifications) are written to {outbox_folder().resolve()}/")
    print(f"Serving the API on {base} (docs: {base}/docs, spec: {base}/openapi.json)")
    print(f"ready in {time.perf_counter() - started:.2f}s; Ctrl-C to stop", flush=True)
    # uvicorn re-raises SIGTERM after its graceful shutdown; as SystemExit (not the default handler's
    # instant death) the process runs its atexit hooks, which stop the embedded PostgreSQL.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    from isp_billing_cli.events import LambdaContext, api_gateway_event, scheduled_event
    from isp_billing_cli.template import function_by_id

    _local_environment()
    function = function_by_id(args.function)
    event: dict[str, Any]
    if args.event:
        event = json.loads(Path(args.event).read_text(encoding="utf-8"))
    elif function.schedules or not function.routes or not hasattr(function.load_module(), "app"):
        # a job (its module has no HTTP app): invoke it directly, as the Scheduler or a person would
        event = scheduled_event(function.logical_id)
    else:
        route = function.routes[0]
        event = api_gateway_event(route.method, route.path, route.path)
    result = function.load_handler()(event, LambdaContext(function.logical_id))
    print(json.dumps(result, indent=2, default=str))
    return 0


def cmd_backfill_orders(args: argparse.Namespace) -> int:
    from isp_billing.backfill import orders as order_backfill
    from isp_billing.backfill.models import BackfillOptions
    from isp_billing.errors import DomainError
    from isp_billing.jobs import run_job
    from isp_billing.jobs.http import parse_options

    _local_environment()
    options: dict[str, Any] = {"dry_run": bool(args.dry_run)}
    if args.since:
        options["since"] = args.since
    try:
        options = parse_options(BackfillOptions, options)
        row = run_job(order_backfill.JOB_NAME, order_backfill.run, trigger="manual", options=options)
    except DomainError as error:
        print(f"isp-billing backfill-orders: {error.detail}", file=sys.stderr)
        return 1
    print(json.dumps(row, indent=2, default=str))
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from isp_billing_cli.openapi import OPENAPI_PATH, build_openapi, render

    os.environ.setdefault("STAGE", "local")
    text = render(build_openapi())
    target = Path(args.output) if args.output else OPENAPI_PATH
    if args.check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print(f"{target} is out of date: run `isp-billing openapi`", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


def cmd_job_schedules(args: argparse.Namespace) -> int:
    from isp_billing_cli import job_schedules

    if args.check:
        if not job_schedules.is_current():
            print(
                "isp_billing/jobs/schedules.py is out of date: run `isp-billing job-schedules`",
                file=sys.stderr,
            )
            return 1
        return 0
    job_schedules.write()
    print(f"wrote {job_schedules.OUTPUT}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="isp-billing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="apply pending migrations").set_defaults(run=cmd_migrate)

    seed = commands.add_parser("seed", help="load data")
    seed.add_argument("--demo", action="store_true", help="the demo customers, services, packages, admins")
    seed.set_defaults(run=cmd_seed)

    serve = commands.add_parser("serve", help="serve every API route of template.yaml locally")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--demo", action="store_true", help="load demo data and print ready-to-use tokens")
    serve.add_argument(
        "--today",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="move the clock to this SAST date (every today/now reads it; the demo bills customers due then)",
    )
    serve.set_defaults(run=cmd_serve)

    invoke = commands.add_parser("invoke", help="invoke one function with an event")
    invoke.add_argument("function", help="logical id in template.yaml, e.g. CustomerServicesListFunction")
    invoke.add_argument("--event", help="a JSON event file (default: a scheduled or API Gateway event)")
    invoke.set_defaults(run=cmd_invoke)

    backfill = commands.add_parser(
        "backfill-orders", help="link the website's consumer orders to customers and services"
    )
    backfill.add_argument("--dry-run", action="store_true", help="report what would happen; write nothing")
    backfill.add_argument(
        "--since", metavar="DATE", help="only orders placed on or after this date (YYYY-MM-DD)"
    )
    backfill.set_defaults(run=cmd_backfill_orders)

    runtime = commands.add_parser(
        "create-runtime-role", help="create the login role the functions connect as (run as the owner)"
    )
    runtime.add_argument("--name", default="isp_billing_runtime")
    runtime.add_argument(
        "--password-env", metavar="VAR", help="read its password from this environment variable"
    )
    runtime.add_argument(
        "--print-sql", action="store_true", help="print the SQL (e.g. for Supabase's SQL editor) instead"
    )
    runtime.set_defaults(run=cmd_create_runtime_role)

    doctor = commands.add_parser(
        "doctor", help="check the database as the functions see it; exit 1 on any finding"
    )
    doctor.add_argument("--json", action="store_true", help="one JSON document instead of a line per check")
    doctor.set_defaults(run=cmd_doctor)

    openapi = commands.add_parser("openapi", help="write the merged OpenAPI document")
    openapi.add_argument("--output", help="default infra/openapi.json")
    openapi.add_argument("--check", action="store_true", help="fail if the committed file is out of date")
    openapi.set_defaults(run=cmd_openapi)

    schedules = commands.add_parser(
        "job-schedules", help="write isp_billing/jobs/schedules.py (the jobs' schedules) from template.yaml"
    )
    schedules.add_argument("--check", action="store_true", help="fail if the committed file is out of date")
    schedules.set_defaults(run=cmd_job_schedules)
    return parser


def main(argv: list[str] | None = None) -> int:
    from isp_billing.errors import ConfigurationError

    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigurationError as error:
        print(f"isp-billing: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
