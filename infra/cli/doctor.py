"""`isp-billing doctor`: check a database as the functions see it; a line per check, non-zero on a finding.

Run it with the URL the functions use (the runtime role's). It checks: every migration applied and unedited;
every table our migrations create present with RLS enabled and every policy they create present; the
Supabase roles; the login role's privileges exactly as designed (owns nothing, no attribute, a NOINHERIT
member of runtime_role.SWITCH_ROLES only, and neither it nor those roles able to bypass the audit log's,
invoices' and payments' guards); the statement timeout in force on a request transaction opened by db.py;
and whether the URL goes through a pooler, in which mode it behaves, and whether session state leaks.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from isp_billing.errors import DomainError
from isp_billing_cli.migrate import MIGRATIONS_DIR, discover
from isp_billing_cli.runtime_role import SWITCH_ROLES

SUPABASE_ROLES = ("anon", "authenticated", "service_role")
# Tables whose history the guards keep: nobody the code runs as may TRUNCATE them or create triggers on
# them (and the audit log takes no UPDATE or DELETE at all). Their guard triggers are among the triggers
# the migrations create, all of which must be present and enabled.
GUARDED_TABLES = ("service_action_log", "customer_invoices", "invoice_line_items", "payment_transactions")
_CREATE_TABLE = re.compile(r"create\s+table\s+(?:if\s+not\s+exists\s+)?public\.(\w+)", re.IGNORECASE)
_CREATE_POLICY = re.compile(r"create\s+policy\s+(\w+)\s+on\s+public\.(\w+)", re.IGNORECASE)
_DROP_POLICY = re.compile(r"drop\s+policy\s+(?:if\s+exists\s+)?(\w+)\s+on\s+public\.(\w+)", re.IGNORECASE)
_CREATE_TRIGGER = re.compile(
    r"create\s+(?:or\s+replace\s+)?(?:constraint\s+)?trigger\s+(\w+)\s+[^;]*?\bon\s+public\.(\w+)",
    re.IGNORECASE,
)
_DROP_TRIGGER = re.compile(r"drop\s+trigger\s+(?:if\s+exists\s+)?(\w+)\s+on\s+public\.(\w+)", re.IGNORECASE)
_RENAME_TRIGGER = re.compile(
    r"alter\s+trigger\s+(\w+)\s+on\s+public\.(\w+)\s+rename\s+to\s+(\w+)", re.IGNORECASE
)

Connection = psycopg.Connection[dict[str, Any]]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _created_minus_dropped(text: str, create: re.Pattern[str], drop: re.Pattern[str], into: set) -> None:
    events = [(m.start(), True, m.groups()) for m in create.finditer(text)]
    events += [(m.start(), False, m.groups()) for m in drop.finditer(text)]
    for _, created, pair in sorted(events):
        if created:
            into.add(pair)
        else:
            into.discard(pair)


def expected_schema() -> tuple[set[str], set[tuple[str, str]], set[tuple[str, str]]]:
    """The tables, (policy, table) and (trigger, table) pairs the migration files leave, applied in order."""
    tables: set[str] = {"schema_migrations"}
    policies: set[tuple[str, str]] = set()
    triggers: set[tuple[str, str]] = set()
    for migration in discover(MIGRATIONS_DIR):
        text = re.sub(r"--[^\n]*", "", migration.sql)
        tables |= set(_CREATE_TABLE.findall(text))
        _created_minus_dropped(text, _CREATE_POLICY, _DROP_POLICY, policies)
        _created_minus_dropped(text, _CREATE_TRIGGER, _DROP_TRIGGER, triggers)
        for old, table, new in _RENAME_TRIGGER.findall(text):
            triggers.discard((old, table))
            triggers.add((new, table))
    return tables, policies, triggers


@contextmanager
def _as_service_role(conn: Connection) -> Iterator[Connection]:
    """A transaction as service_role (the runtime role can read nothing as itself); rolled back."""
    with conn.transaction(force_rollback=True):
        conn.execute("select set_config('role', 'service_role', true)")
        yield conn


def check_migrations(conn: Connection) -> Check:
    with _as_service_role(conn):
        recorded = {
            row["version"]: row["checksum"]
            for row in conn.execute("select version, checksum from public.schema_migrations")
        }
    files = {migration.version: migration.checksum for migration in discover(MIGRATIONS_DIR)}
    missing = sorted(set(files) - set(recorded))
    edited = sorted(
        version for version in files if version in recorded and recorded[version] != files[version]
    )
    unknown = sorted(set(recorded) - set(files))
    problems = [
        *(f"not applied: {v}" for v in missing),
        *(f"edited after it was applied: {v}" for v in edited),
        *(f"applied but no such file here: {v}" for v in unknown),
    ]
    return Check("migrations", not problems, "; ".join(problems) or f"{len(files)} applied, none edited")


def check_tables_and_policies(conn: Connection) -> Check:
    tables, policies, _ = expected_schema()
    present = {
        row["relname"]: row["relrowsecurity"]
        for row in conn.execute(
            "select c.relname, c.relrowsecurity from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and c.relkind in ('r', 'p')"
        )
    }
    have_policies = {
        (row["policyname"], row["tablename"])
        for row in conn.execute("select policyname, tablename from pg_policies where schemaname = 'public'")
    }
    problems = [f"missing table: {t}" for t in sorted(tables - set(present))]
    problems += [f"RLS disabled: {t}" for t in sorted(t for t, rls in present.items() if not rls)]
    problems += [f"missing policy: {p} on {t}" for p, t in sorted(policies - have_policies)]
    detail = "; ".join(problems) or f"{len(tables)} tables with RLS, {len(policies)} policies"
    return Check("tables_rls_policies", not problems, detail)


def check_supabase_roles(conn: Connection) -> Check:
    roles = {
        row["rolname"]: row
        for row in conn.execute(
            "select rolname, rolbypassrls, rolsuper from pg_roles where rolname = any(%s)",
            (list(SUPABASE_ROLES),),
        )
    }
    problems = [f"missing role: {r}" for r in SUPABASE_ROLES if r not in roles]
    if "service_role" in roles and not roles["service_role"]["rolbypassrls"]:
        problems.append("service_role lacks BYPASSRLS")
    problems += [
        f"{r} bypasses RLS" for r in ("anon", "authenticated") if r in roles and roles[r]["rolbypassrls"]
    ]
    return Check(
        "supabase_roles", not problems, "; ".join(problems) or ", ".join(SUPABASE_ROLES) + " present"
    )


def check_runtime_role(conn: Connection) -> Check:
    me = conn.execute(
        "select r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls,"
        " r.rolreplication,"
        " array(select b.rolname::text from pg_auth_members m join pg_roles b on b.oid = m.roleid"
        "       where m.member = r.oid order by 1) as member_of,"
        " (select count(*) from pg_class where relowner = r.oid) as owns_relations,"
        " (select count(*) from pg_proc where proowner = r.oid) as owns_functions,"
        " (select count(*) from pg_namespace where nspowner = r.oid) as owns_schemas,"
        " (select count(*) from pg_type where typowner = r.oid) as owns_types"
        " from pg_roles r where r.rolname = current_user"
    ).fetchone()
    assert me is not None
    problems = [
        f"{attribute.removeprefix('rol').upper()}"
        for attribute in ("rolsuper", "rolcreaterole", "rolcreatedb", "rolbypassrls", "rolreplication")
        if me[attribute]
    ]
    if me["rolinherit"]:
        problems.append("INHERIT (it holds its roles' privileges without switching)")
    owned = {kind: me[f"owns_{kind}"] for kind in ("relations", "functions", "schemas", "types")}
    problems += [f"owns {n} {kind}" for kind, n in owned.items() if n]
    if me["member_of"] != sorted(SWITCH_ROLES):
        problems.append(f"member of {me['member_of']} (expected {sorted(SWITCH_ROLES)})")
    problems += _guard_problems(conn)
    if problems:
        return Check("runtime_role", False, f"{me['rolname']}: " + "; ".join(problems))
    detail = f"{me['rolname']}: owns nothing, no attributes, switches to {', '.join(SWITCH_ROLES)} only"
    return Check("runtime_role", True, detail + "; the history guards hold")


def _guard_problems(conn: Connection) -> list[str]:
    problems = []
    login = conn.execute("select current_user as login").fetchone()["login"]  # type: ignore[index]
    replica = conn.execute(
        "select has_parameter_privilege(current_user, 'session_replication_role', 'SET') as can"
    ).fetchone()
    if replica and replica["can"]:
        problems.append("may SET session_replication_role")
    enabled = {
        (row["tgname"], row["relname"]): row["tgenabled"]
        for row in conn.execute(
            "select t.tgname, c.relname, t.tgenabled from pg_trigger t join pg_class c on c.oid = t.tgrelid"
            " join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and not t.tgisinternal"
        )
    }
    _, _, triggers = expected_schema()
    problems += [f"trigger {name} on {table} missing" for name, table in sorted(triggers - set(enabled))]
    problems += [
        f"trigger {name} on {table} not enabled"
        for (name, table), state in sorted(enabled.items())
        if (name, table) in triggers and state != "O"
    ]
    for table in GUARDED_TABLES:
        grants = ["TRUNCATE", "TRIGGER"] + (["UPDATE", "DELETE"] if table == "service_action_log" else [])
        for role in (*SWITCH_ROLES, login):
            for privilege in grants:
                row = conn.execute(
                    "select has_table_privilege(%s, %s, %s) as granted", (role, f"public.{table}", privilege)
                ).fetchone()
                if row and row["granted"]:
                    problems.append(f"{role} may {privilege} {table}")
    return problems


def check_statement_timeout(url: str) -> Check:
    """Open a request transaction exactly as db.py does and read the timeout in force inside it."""
    from isp_billing import db
    from isp_billing.settings import get_settings, reset_settings_cache

    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("STAGE", "local")
    reset_settings_cache()
    db.reset_connection()
    try:
        with db.service_session() as conn:
            row = conn.execute("select current_setting('statement_timeout') as timeout").fetchone()
        expected_ms = get_settings().db_statement_timeout_ms
    finally:
        db.reset_connection()
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        reset_settings_cache()
    value = row["timeout"] if row else "0"
    if value in ("0", ""):
        return Check("statement_timeout", False, "no statement timeout in force on a request transaction")
    return Check("statement_timeout", True, f"{value} on a request transaction (setting {expected_ms}ms)")


def check_pooler(url: str) -> Check:
    """Direct, session-mode pooler or transaction-mode pooler, and whether session state leaks."""
    token = secrets.token_hex(8)
    with psycopg.connect(url, autocommit=True, prepare_threshold=None, row_factory=dict_row) as first:
        pids = [first.execute("select pg_backend_pid() as pid").fetchone()["pid"] for _ in range(4)]  # type: ignore[index]
        server_port = first.execute("select inet_server_port() as port").fetchone()["port"]  # type: ignore[index]
        try:
            # Session state on purpose (a harmless custom setting), to see whether another client inherits it.
            first.execute("select set_config('isp_billing.doctor_probe', %s, false)", (token,))
            probe_refused = False
        except psycopg.Error:
            probe_refused = True  # e.g. Supavisor with txn_mode_leak_action = reject
        with psycopg.connect(url, autocommit=True, prepare_threshold=None, row_factory=dict_row) as second:
            other_pid = second.execute("select pg_backend_pid() as pid").fetchone()["pid"]  # type: ignore[index]
            probe = second.execute(
                "select current_setting('isp_billing.doctor_probe', true) as probe"
            ).fetchone()
            leaked = probe is not None and probe["probe"] == token  # type: ignore[index]
            second.execute("reset isp_billing.doctor_probe")
        if not probe_refused:
            first.execute("reset isp_billing.doctor_probe")
    url_port = psycopg.conninfo.conninfo_to_dict(url).get("port")
    if len(set(pids)) > 1 or other_pid in pids:
        mode = "a pooler in transaction mode (one client's transactions ran on several backends)"
    elif url_port and server_port and str(url_port) != str(server_port):
        mode = f"a pooler or proxy in session mode (port {url_port} reaches a server on {server_port})"
    else:
        mode = "a direct connection (or a session-mode pooler on the server's own port)"
    state = (
        "refused (the pooler rejects session state)"
        if probe_refused
        else ("leaks to other clients" if leaked else "does not leak to other clients")
    )
    return Check("pooler", True, f"{mode}; session state {state}; the code keeps none")


def run_checks(url: str) -> list[Check]:
    checks: list[Check] = []
    try:
        conn: Connection = psycopg.connect(url, autocommit=True, prepare_threshold=None, row_factory=dict_row)
    except psycopg.OperationalError as error:
        return [Check("connect", False, f"cannot connect ({type(error).__name__})")]
    steps: list[tuple[str, Callable[[], Check]]] = [
        ("migrations", lambda: check_migrations(conn)),
        ("tables_rls_policies", lambda: check_tables_and_policies(conn)),
        ("supabase_roles", lambda: check_supabase_roles(conn)),
        ("runtime_role", lambda: check_runtime_role(conn)),
        ("statement_timeout", lambda: check_statement_timeout(url)),
        ("pooler", lambda: check_pooler(url)),
    ]
    with conn:
        checks.append(Check("connect", True, "connected"))
        for name, step in steps:
            try:
                checks.append(step())
            except (psycopg.Error, DomainError) as error:
                checks.append(Check(name, False, f"could not check: {type(error).__name__}"))
    return checks


def run_doctor(url: str, *, as_json: bool) -> int:
    checks = run_checks(url)
    if as_json:
        print(json.dumps({"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        for check in checks:
            print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    return 0 if all(check.ok for check in checks) else 1
