"""Row Level Security is a wall of its own: shown here with queries that carry no customer filter at all."""

import psycopg
import pytest
from psycopg import sql

from isp_billing import db
from tests.factories import insert_customer, insert_service


def _claims(auth_user_id: str) -> dict:
    return {"sub": auth_user_id, "role": "authenticated", "aud": "authenticated"}


def test_a_customer_session_sees_only_its_own_services_without_any_where_clause(conn):
    # Given two customers with a service each
    mine = insert_customer(conn, auth_user_id="a0000000-0000-4000-8000-00000000000a")
    theirs = insert_customer(conn, auth_user_id="a0000000-0000-4000-8000-00000000000b")
    my_service = insert_service(conn, mine)
    insert_service(conn, theirs)
    # When the first customer's session reads every service with no WHERE clause
    with db.customer_session(_claims("a0000000-0000-4000-8000-00000000000a")) as (session, customer_id):
        rows = session.execute("select id, customer_id from customer_services").fetchall()
        billing = session.execute("select customer_id from customer_billing").fetchall()
        customers = session.execute("select id from customers").fetchall()
    # Then the policy alone returns only their own rows
    assert str(customer_id) == mine
    assert [str(row["id"]) for row in rows] == [my_service]
    assert [str(row["customer_id"]) for row in billing] == [mine]
    assert [str(row["id"]) for row in customers] == [mine]


def test_a_user_with_no_customer_row_sees_nothing(conn):
    # Given a customer with a service, and a signed-in user who is nobody's customer
    insert_service(conn, insert_customer(conn))
    # When that user reads services without a filter / Then nothing comes back
    with db.customer_session(_claims("a0000000-0000-4000-8000-0000000000ff")) as (session, customer_id):
        assert customer_id is None
        assert session.execute("select count(*) as n from customer_services").fetchone()["n"] == 0


@pytest.mark.parametrize(
    "table",
    ["service_action_log", "cron_execution_log", "admin_users", "consumer_orders", "idempotency_keys"],
)
def test_a_customer_session_is_refused_on_internal_tables(conn, table):
    # Given a signed-in customer
    insert_customer(conn, auth_user_id="a0000000-0000-4000-8000-00000000000c")
    # When their session reads an internal table / Then the database refuses outright
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        db.customer_session(_claims("a0000000-0000-4000-8000-00000000000c")) as (session, _),
    ):
        session.execute(sql.SQL("select * from {}").format(sql.Identifier(table)))


def test_the_session_role_and_claims_do_not_outlive_the_transaction(conn):
    # Given a customer session that has ended
    insert_customer(conn, auth_user_id="a0000000-0000-4000-8000-00000000000d")
    with db.customer_session(_claims("a0000000-0000-4000-8000-00000000000d")):
        pass
    # When the same connection starts a service session / Then it is no longer 'authenticated'
    with db.service_session() as session:
        row = session.execute(
            "select current_user as role, current_setting('request.jwt.claims', true) as claims"
        ).fetchone()
    assert row["role"] == "service_role"
    assert not row["claims"]


def test_a_customer_request_costs_three_round_trips(conn):
    # Given a signed-in customer and the process's connection
    from tests.db_trace import round_trips

    insert_customer(conn, auth_user_id="a0000000-0000-4000-8000-00000000000e")
    claims = _claims("a0000000-0000-4000-8000-00000000000e")
    with db.customer_session(claims):
        pass  # opens the cached connection

    def one_request():
        with db.customer_session(claims) as (session, _):
            session.execute("select id from customer_services").fetchall()

    # When one customer read runs / Then: BEGIN with the session setup, the query, COMMIT
    assert round_trips(db.get_connection(), one_request) == 3
