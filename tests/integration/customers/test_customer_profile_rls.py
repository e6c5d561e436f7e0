"""The customer's own profile writes, with Row Level Security and column grants as walls of their own: shown
with statements that carry no customer filter, in the API's customer session (api_customer)."""

from __future__ import annotations

import psycopg
import pytest

from isp_billing import db
from tests.factories import insert_customer

ME = "b0000000-0000-4000-8000-00000000000a"
THEM = "b0000000-0000-4000-8000-00000000000b"
PROFILE_AUDIT_ROW = (
    "insert into customer_audit_log (customer_id, action, actor_type)"
    " values (%s, 'profile_change', 'customer')"
)


def _claims(auth_user_id: str) -> dict:
    return {"sub": auth_user_id, "role": "authenticated", "aud": "authenticated"}


def test_a_customer_session_updates_only_its_own_profile_without_any_where_clause(conn):
    # Given two customers
    mine = insert_customer(conn, auth_user_id=ME, phone="+27820000001")
    theirs = insert_customer(conn, auth_user_id=THEM, phone="+27820000002")
    # When my session changes every customer's phone and invoice e-mail, with no filter at all
    with db.customer_session(_claims(ME)) as (session, _):
        changed = session.execute("update customers set phone = '+27829999999'").rowcount
        billed = session.execute("update customer_billing set invoice_email = 'me@example.co.za'").rowcount
    # Then only my rows changed
    assert changed == 1 and billed == 1
    phones = {str(r["id"]): r["phone"] for r in conn.execute("select id, phone from customers").fetchall()}
    assert phones == {mine: "+27829999999", theirs: "+27820000002"}
    emails = conn.execute(
        "select customer_id, invoice_email from customer_billing where customer_id = %s", (theirs,)
    )
    assert emails.fetchone()["invoice_email"] != "me@example.co.za"


def test_a_customer_session_reads_no_other_profile(conn):
    # Given two customers
    insert_customer(conn, auth_user_id=ME)
    theirs = insert_customer(conn, auth_user_id=THEM)
    # When my session asks for the other's row and billing settings by id
    with db.customer_session(_claims(ME)) as (session, _):
        row = session.execute("select * from customers where id = %s", (theirs,)).fetchone()
        billing = session.execute(
            "select * from customer_billing where customer_id = %s", (theirs,)
        ).fetchone()
    # Then nothing comes back
    assert row is None and billing is None


@pytest.mark.parametrize(
    "statement",
    [
        "update customers set first_name = 'Mallory'",
        "update customers set email = 'mallory@example.co.za'",
        "update customers set is_test = true",
        "update customers set auth_user_id = null",
        "update customer_billing set credit_balance = 1000",
        "update customer_billing set billing_day = 2",
    ],
)
def test_a_customer_session_cannot_change_anything_but_the_profile_fields(conn, statement):
    # Given a customer / When their session tries to change a field that is not theirs to change
    insert_customer(conn, auth_user_id=ME)
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        db.customer_session(_claims(ME)) as (session, _),
    ):
        session.execute(statement)


@pytest.mark.parametrize(
    "action,actor,whose",
    [
        ("profile_change", "customer", "theirs"),
        ("contact_change", "customer", "mine"),
        ("profile_change", "system", "mine"),
    ],
)
def test_a_customer_session_writes_only_its_own_profile_audit_rows_as_the_customer(
    conn, action, actor, whose
):
    # Given two customers
    ids = {"mine": insert_customer(conn, auth_user_id=ME), "theirs": insert_customer(conn, auth_user_id=THEM)}
    # When my session writes an audit row for another account, another action, or another actor
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        db.customer_session(_claims(ME)) as (session, _),
    ):
        session.execute(
            "insert into customer_audit_log (customer_id, action, actor_type) values (%s, %s, %s)",
            (ids[whose], action, actor),
        )
    # Then the policy refused it
    assert conn.execute("select count(*) as n from customer_audit_log").fetchone()["n"] == 0


def test_a_customer_session_cannot_read_the_audit_log(conn):
    mine = insert_customer(conn, auth_user_id=ME)
    with db.customer_session(_claims(ME)) as (session, _):
        session.execute(
            PROFILE_AUDIT_ROW,
            (mine,),
        )
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        db.customer_session(_claims(ME)) as (session, _),
    ):
        session.execute("select * from customer_audit_log")


@pytest.mark.parametrize(
    "statement", ["update customer_audit_log set action = 'create'", "delete from customer_audit_log"]
)
def test_the_customer_audit_log_refuses_update_and_delete_even_for_a_superuser(conn, statement):
    # Given an audit row
    customer_id = insert_customer(conn)
    conn.execute(
        PROFILE_AUDIT_ROW,
        (customer_id,),
    )
    # When a superuser changes or deletes it / Then the append-only trigger refuses
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
        conn.execute(statement)


def test_an_admin_audit_row_must_name_the_admin(conn):
    customer_id = insert_customer(conn)
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "insert into customer_audit_log (customer_id, action, actor_type)"
            " values (%s, 'contact_change', 'admin')",
            (customer_id,),
        )
