"""service_action_log is append-only for everyone: the service role, customers and even the superuser."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.factories import insert_customer, insert_service


@pytest.fixture
def logged_action(conn):
    customer = insert_customer(conn)
    service = insert_service(conn, customer)
    row = conn.execute(
        "insert into service_action_log (service_id, customer_id, action, previous_status, new_status,"
        " reason, actor_type) values (%s, %s, 'suspend', 'active', 'suspended', 'why', 'system')"
        " returning id",
        (service, customer),
    ).fetchone()
    return row["id"]


STATEMENTS = {
    "update": "update service_action_log set reason = 'rewritten' where id = %s",
    "delete": "delete from service_action_log where id = %s",
}


@pytest.mark.parametrize("statement", list(STATEMENTS))
@pytest.mark.parametrize("role", ["service_role", "authenticated", "anon"])
def test_no_role_may_update_or_delete_the_audit_log(admin_database_url, conn, logged_action, statement, role):
    # Given an audit row, and a connection acting as `role` (switched to from the superuser: the runtime
    # role may not become anon)
    with psycopg.connect(admin_database_url, row_factory=dict_row) as other:
        other.execute(f"set local role {role}")  # this transaction only: pooler-safe
        # When it tries to change or remove the row / Then it is refused (privileges; the trigger behind them)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            other.execute(STATEMENTS[statement], (logged_action,))
    # And the row is as it was
    assert conn.execute("select reason from service_action_log").fetchall() == [{"reason": "why"}]


@pytest.mark.parametrize("statement", list(STATEMENTS))
def test_even_the_superuser_is_refused_by_the_trigger(conn, logged_action, statement):
    # Given a superuser, whom privileges and RLS do not stop
    # When it tries / Then the append-only trigger refuses
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="append-only"):
        conn.execute(STATEMENTS[statement], (logged_action,))
    assert conn.execute("select count(*) as n from service_action_log").fetchone()["n"] == 1


def test_truncate_is_refused_for_the_service_role(clean_db, logged_action):
    with psycopg.connect(clean_db) as other:
        other.execute("set local role service_role")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            other.execute("truncate service_action_log")


def test_the_service_role_may_still_append_and_read(clean_db, conn, logged_action):
    # Given the service role / When it inserts and reads / Then both work
    service = conn.execute("select service_id, customer_id from service_action_log").fetchone()
    # (`set local` in the connection's transaction: a session-level role would outlive this test on a
    # pooled server connection in the PgBouncer pass)
    with psycopg.connect(clean_db, row_factory=dict_row) as other:
        other.execute("set local role service_role")
        other.execute(
            "insert into service_action_log (service_id, customer_id, action, actor_type, reason)"
            " values (%s, %s, 'provider_retry', 'system', 'retry')",
            (service["service_id"], service["customer_id"]),
        )
        assert other.execute("select count(*) as n from service_action_log").fetchone()["n"] == 2


def test_policies_leave_no_update_or_delete_path(conn):
    # Given the table's policies / Then the only ones for update and delete are restrictive refusals
    policies = conn.execute(
        "select cmd, permissive, qual from pg_policies where tablename = 'service_action_log' order by cmd"
    ).fetchall()
    assert [(p["cmd"], p["permissive"], p["qual"]) for p in policies] == [
        ("DELETE", "RESTRICTIVE", "false"),
        ("UPDATE", "RESTRICTIVE", "false"),
    ]
