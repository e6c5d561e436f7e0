"""Package change requests under Row Level Security: a customer's session reads and creates only its own."""

from __future__ import annotations

import psycopg
import pytest

from isp_billing import db
from tests.factories import insert_customer, insert_package, insert_service

ME = "b0000000-0000-4000-8000-00000000000a"
THEM = "b0000000-0000-4000-8000-00000000000b"


def _claims(auth_user_id: str) -> dict:
    return {"sub": auth_user_id, "role": "authenticated", "aud": "authenticated"}


def _world(conn):
    mine, theirs = insert_customer(conn, auth_user_id=ME), insert_customer(conn, auth_user_id=THEM)
    package = insert_package(conn)
    my_service, their_service = insert_service(conn, mine), insert_service(conn, theirs)
    for customer, service in ((mine, my_service), (theirs, their_service)):
        conn.execute(
            "insert into service_change_requests (service_id, customer_id, package_id) values (%s, %s, %s)",
            (service, customer, package),
        )
    return mine, theirs, my_service, their_service, package


def test_a_customer_session_reads_only_its_own_requests_without_any_where_clause(conn):
    # Given two customers with a change request each
    mine, _, my_service, _, _ = _world(conn)
    # When the first customer's session reads every request
    with db.customer_session(_claims(ME)) as (session, _):
        rows = session.execute("select service_id, customer_id from service_change_requests").fetchall()
    # Then only their own comes back
    assert [(str(r["service_id"]), str(r["customer_id"])) for r in rows] == [(my_service, mine)]


def test_a_customer_session_cannot_create_a_request_for_another_customer_or_a_decided_one(conn):
    mine, theirs, my_service, their_service, package = _world(conn)
    conn.execute("delete from service_change_requests")
    # When the session inserts for the other customer's service / Then the policy refuses it
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        db.customer_session(_claims(ME)) as (session, _),
    ):
        session.execute(
            "insert into service_change_requests (service_id, customer_id, package_id) values (%s, %s, %s)",
            (their_service, theirs, package),
        )
    # And a request that claims to be approved already is refused too
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        db.customer_session(_claims(ME)) as (session, _),
    ):
        session.execute(
            "insert into service_change_requests (service_id, customer_id, package_id, status,"
            " effective_date, decided_at) values (%s, %s, %s, 'approved', current_date, now())",
            (my_service, mine, package),
        )
    # And the session may not update or delete a request at all
    conn.execute(
        "insert into service_change_requests (service_id, customer_id, package_id) values (%s, %s, %s)",
        (my_service, mine, package),
    )
    for statement in (
        "update service_change_requests set status = 'approved'",
        "delete from service_change_requests",
    ):
        with (
            pytest.raises(psycopg.errors.InsufficientPrivilege),
            db.customer_session(_claims(ME)) as (session, _),
        ):
            session.execute(statement)
    assert conn.execute("select status from service_change_requests").fetchone()["status"] == "pending"
