"""`isp-billing doctor`: a clean database passes every check; each kind of breakage is named."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from isp_billing_cli.doctor import run_checks
from isp_billing_cli.runtime_role import RUNTIME_ROLE


def _findings(url: str) -> dict[str, str]:
    return {check.name: check.detail for check in run_checks(url) if not check.ok}


@contextmanager
def _broken(conn, break_it: str, repair: str) -> Iterator[None]:
    conn.execute(break_it)
    try:
        yield
    finally:
        conn.execute(repair)


def test_a_clean_database_passes_every_check(clean_db):
    # Given the migrated database, seen through the runtime role's URL / When the doctor runs
    checks = run_checks(clean_db)
    # Then every check passes, and each one ran
    assert [(c.name, c.ok) for c in checks] == [
        ("connect", True),
        ("migrations", True),
        ("tables_rls_policies", True),
        ("supabase_roles", True),
        ("runtime_role", True),
        ("statement_timeout", True),
        ("pooler", True),
    ]


def test_the_command_prints_a_line_per_check_and_json_for_machines(clean_db):
    # Given the command as a person runs it / When it runs with --json / Then it exits 0 with every check
    environment = {"DATABASE_URL": clean_db, "STAGE": "local", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "isp_billing_cli.main", "doctor", "--json"],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] is True and len(document["checks"]) == 7


@pytest.mark.parametrize(
    ("break_it", "repair", "check", "finding"),
    [
        (
            "alter table public.payment_transactions disable row level security",
            "alter table public.payment_transactions enable row level security",
            "tables_rls_policies",
            "RLS disabled: payment_transactions",
        ),
        (
            "alter policy customers_select_own on public.customers rename to customers_renamed",
            "alter policy customers_renamed on public.customers rename to customers_select_own",
            "tables_rls_policies",
            "missing policy: customers_select_own on customers",
        ),
        (
            "create table public.doctor_probe (id int);"
            f" alter table public.doctor_probe owner to {RUNTIME_ROLE}",
            "drop table public.doctor_probe",
            "runtime_role",
            "owns 1 relations",
        ),
        (
            "grant truncate on public.service_action_log to service_role",
            "revoke truncate on public.service_action_log from service_role",
            "runtime_role",
            "service_role may TRUNCATE service_action_log",
        ),
        (
            "alter table public.payment_transactions disable trigger payment_transactions_protect_history",
            "alter table public.payment_transactions enable trigger payment_transactions_protect_history",
            "runtime_role",
            "trigger payment_transactions_protect_history on payment_transactions not enabled",
        ),
        (
            "update public.schema_migrations set checksum = 'x' where version = "
            "(select min(version) from public.schema_migrations)",
            "select 1",  # repaired below: the checksum is put back from the file
            "migrations",
            "edited after it was applied",
        ),
    ],
    ids=[
        "rls_disabled",
        "policy_missing",
        "runtime_owns_a_table",
        "truncate_granted",
        "trigger_disabled",
        "migration_edited",
    ],
)
def test_a_broken_database_fails_with_the_named_finding(clean_db, conn, break_it, repair, check, finding):
    from isp_billing_cli.migrate import discover

    # Given a database broken one way
    with _broken(conn, break_it, repair):
        try:
            # When the doctor runs / Then that check fails and names what is wrong
            findings = _findings(clean_db)
            assert check in findings, findings
            assert finding in findings[check]
        finally:
            first = discover()[0]
            conn.execute(
                "update public.schema_migrations set checksum = %s where version = %s",
                (first.checksum, first.version),
            )
    # And once repaired, it passes again
    assert _findings(clean_db) == {}
