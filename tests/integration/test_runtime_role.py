"""The runtime login role owns nothing and cannot rewrite history: audit rows, issued invoices, payment rows.

Every attempt below runs on a connection logged in as `isp_billing_runtime` (the `database_url` the code
under test uses), as itself, as service_role and as authenticated (with the claims of the row's customer),
by every route we know: UPDATE, DELETE, TRUNCATE, `session_replication_role = replica`, disabling or
dropping the guard trigger, and becoming the owner. Each must be refused, and the rows must be unchanged.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
from psycopg.rows import dict_row

from isp_billing_cli.runtime_role import RUNTIME_ROLE, create_runtime_role, render_sql, scram_verifier
from tests.factories import insert_customer, insert_service

AUTH_ID = "a0000000-0000-4000-8000-0000000000d1"

# table -> (statement that rewrites the row, statement that removes it, the guard trigger)
TARGETS = {
    "service_action_log": (
        "update service_action_log set reason = 'rewritten'",
        "delete from service_action_log",
        "service_action_log_append_only",
    ),
    "customer_invoices": (
        "update customer_invoices set subtotal = 0, vat_amount = 0, total_amount = 0",
        "delete from customer_invoices",
        "customer_invoices_protect_issued",
    ),
    "payment_transactions": (
        "update payment_transactions set amount = 1",
        "delete from payment_transactions",
        "payment_transactions_protect_history",
    ),
}
REFUSED = (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectNotInPrerequisiteState)


@pytest.fixture
def history(conn) -> Iterator[dict[str, list[dict]]]:
    """An audit row, an issued invoice and a successful payment of one customer; yields their snapshot."""
    customer = insert_customer(conn, auth_user_id=AUTH_ID)
    service = insert_service(conn, customer)
    conn.execute(
        "insert into service_action_log (service_id, customer_id, action, previous_status, new_status,"
        " reason, actor_type) values (%s, %s, 'suspend', 'active', 'suspended', 'why', 'system')",
        (service, customer),
    )
    invoice = conn.execute(
        "insert into customer_invoices (customer_id, invoice_date, due_date, period_start, period_end,"
        " subtotal, vat_rate, vat_amount, total_amount, status)"
        " values (%s, %s, %s, %s, %s, 100.00, 15.00, 15.00, 115.00, 'issued') returning id",
        (customer, date(2026, 11, 1), date(2026, 11, 8), date(2026, 11, 1), date(2026, 11, 30)),
    ).fetchone()["id"]
    conn.execute(
        "insert into payment_transactions (customer_id, invoice_id, amount, kind, status, provider)"
        " values (%s, %s, 115.00, 'collection', 'successful', 'manual')",
        (customer, invoice),
    )
    yield _snapshot(conn)


def _snapshot(conn) -> dict[str, list[dict]]:
    return {
        table: [dict(row) for row in conn.execute(f"select * from {table} order by id").fetchall()]
        for table in TARGETS
    }


def _attempt(url: str, acting_as: str, statement: str) -> BaseException | int:
    """Run `statement` in one transaction on a runtime-role connection, acting as `acting_as`; returns the
    error raised, or the number of rows it affected (then rolled back anyway: only refusals are wanted)."""
    with psycopg.connect(url, row_factory=dict_row) as runtime:
        assert runtime.execute("select current_user as u").fetchone()["u"] == RUNTIME_ROLE
        try:
            if acting_as == "authenticated":
                claims = {"sub": AUTH_ID, "role": "authenticated", "aud": "authenticated"}
                runtime.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
            if acting_as != "itself":
                runtime.execute("select set_config('role', %s, true)", (acting_as,))
            return runtime.execute(statement).rowcount  # type: ignore[arg-type]
        except psycopg.Error as error:
            return error
        finally:
            runtime.rollback()


def _routes(table: str, acting_as: str) -> list[str]:
    rewrite, remove, trigger = TARGETS[table]
    return [
        rewrite,
        remove,
        f"truncate {table} cascade",
        "set session_replication_role = replica",
        "set local session_replication_role = replica",
        f"alter table {table} disable trigger {trigger}",
        f"alter table {table} disable trigger all",
        f"drop trigger {trigger} on {table}",
        f"alter table {table} disable row level security",
        f"alter table {table} owner to {acting_as if acting_as != 'itself' else RUNTIME_ROLE}",
        f"drop table {table} cascade",
    ]


@pytest.mark.parametrize("acting_as", ["itself", "service_role", "authenticated"])
@pytest.mark.parametrize("table", list(TARGETS))
def test_the_runtime_role_cannot_rewrite_history_by_any_route(clean_db, conn, history, table, acting_as):
    # Given an audit row, an issued invoice and a successful payment
    # When the runtime role tries each route, as itself, as service_role or as the row's customer
    let_through = {}
    for statement in _routes(table, acting_as):
        result = _attempt(clean_db, acting_as, statement)
        # Then it is refused by privileges or by the guard (a customer's UPDATE/DELETE may instead see no
        # row through RLS: zero rows affected is a refusal too)
        if not (isinstance(result, REFUSED) or result == 0):
            let_through[statement] = result
    assert let_through == {}
    # And every row is exactly as it was
    assert _snapshot(conn) == history


def test_replica_mode_is_refused_even_to_bypass_one_delete(clean_db, conn, history):
    # Given the runtime role as service_role, trying the classic sequence in one transaction
    with psycopg.connect(clean_db) as runtime:
        runtime.execute("select set_config('role', 'service_role', true)")
        # When it asks for replica mode / Then the server refuses (superuser-only parameter)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            runtime.execute("set local session_replication_role = replica")
    assert _snapshot(conn) == history


@pytest.mark.parametrize("owner_like", ["postgres", "anon", "supabase_postgres", "pg_write_all_data"])
def test_the_runtime_role_can_switch_only_to_authenticated_and_service_role(clean_db, owner_like):
    # Given the runtime role / When it tries to become any other role / Then it is refused
    with psycopg.connect(clean_db) as runtime:
        exists = runtime.execute("select 1 from pg_roles where rolname = %s", (owner_like,)).fetchone()
        if exists is None:
            pytest.skip(f"no role {owner_like} on this server")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            runtime.execute("select set_config('role', %s, true)", (owner_like,))


def test_the_runtime_role_owns_nothing_and_holds_no_privilege_of_its_own(clean_db, conn):
    # Given the migrated database / Then no object belongs to the runtime role
    owned = conn.execute(
        "select count(*) as n from pg_class c join pg_roles r on r.oid = c.relowner where r.rolname = %s",
        (RUNTIME_ROLE,),
    ).fetchone()["n"]
    assert owned == 0
    # And as itself (NOINHERIT) it can read no table: privileges come only from a per-transaction switch
    with psycopg.connect(clean_db) as runtime, pytest.raises(psycopg.errors.InsufficientPrivilege):
        runtime.execute("select count(*) from customers")
    # And it is nothing but a login that may switch to the two API roles
    role = conn.execute(
        "select rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication, rolcanlogin,"
        " array(select b.rolname::text from pg_auth_members m join pg_roles b on b.oid = m.roleid"
        "        where m.member = r.oid order by 1) as member_of"
        " from pg_roles r where rolname = %s",
        (RUNTIME_ROLE,),
    ).fetchone()
    assert role == {
        "rolsuper": False,
        "rolinherit": False,
        "rolcreaterole": False,
        "rolcreatedb": False,
        "rolbypassrls": False,
        "rolreplication": False,
        "rolcanlogin": True,
        "member_of": ["authenticated", "service_role"],
    }


def test_creating_the_runtime_role_again_changes_nothing(clean_db, owner_database_url, conn):
    # Given the role exists / When the owner runs the creation again (a second deploy, an overlapping run)
    create_runtime_role(owner_database_url)
    # Then it is still in shape and the code still connects
    with psycopg.connect(clean_db) as runtime:
        assert runtime.execute("select current_user").fetchone()[0] == RUNTIME_ROLE


def test_the_password_is_sent_as_a_scram_verifier_never_in_clear():
    # Given a password / When the SQL for the SQL editor is rendered / Then only a SCRAM verifier appears
    text = render_sql(password="correct horse battery staple")
    assert "correct horse" not in text
    assert "SCRAM-SHA-256$4096:" in text
    # And the verifier is PostgreSQL's format: iterations:salt$storedkey:serverkey
    verifier = scram_verifier("x", salt=b"0123456789abcdef")
    assert verifier.startswith("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$")
    assert verifier.count(":") == 2


def test_a_password_is_stored_as_the_verifier_sent(conn, owner_database_url):
    # Given a role of the runtime's shape created with a password (a name of its own: roles are cluster-wide)
    name = f"isp_billing_runtime_pw_{uuid.uuid4().hex[:6]}"
    try:
        create_runtime_role(owner_database_url, name, password="correct horse battery staple")
        # Then the server holds a SCRAM verifier (what `\\password` would store), and the role is in shape
        stored = conn.execute("select rolpassword from pg_authid where rolname = %s", (name,)).fetchone()
        assert stored["rolpassword"].startswith("SCRAM-SHA-256$4096:")
        member_of = conn.execute(
            "select array(select b.rolname::text from pg_auth_members m join pg_roles b on b.oid = m.roleid"
            " join pg_roles r on r.oid = m.member where r.rolname = %s order by 1) as roles",
            (name,),
        ).fetchone()["roles"]
        assert member_of == ["authenticated", "service_role"]
    finally:
        conn.execute(f'drop role if exists "{name}"')
