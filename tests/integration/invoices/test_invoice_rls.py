"""Invoices behind Row Level Security alone (no WHERE clause): a customer's JWT through the Data API shape and
the API's own customer session see their issued invoices only, never a draft, a void one or another's; the
invoice action log is closed to them and append-only for everyone."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from isp_billing import db
from tests.factories import insert_customer
from tests.invoice_helpers import insert_invoice
from tests.postgrest import DataApi, customer_claims, select_statement

ME = "b0000000-0000-4000-8000-00000000000a"


@pytest.fixture
def world(conn):
    mine = insert_customer(conn, auth_user_id=ME)
    theirs = insert_customer(conn)
    issued = insert_invoice(conn, mine)
    insert_invoice(conn, mine, status="draft")
    insert_invoice(conn, mine, status="void")
    insert_invoice(conn, theirs)
    conn.execute(
        "insert into invoice_action_log (invoice_id, customer_id, action, previous_status, new_status,"
        " reason, actor_type, previous_data, new_data)"
        " values (%s, %s, 'write_off', 'issued', 'issued', 'why', 'system', '{}', '{}')",
        (issued["id"], mine),
    )
    return {"issued": issued}


def test_the_data_api_shows_a_customer_only_their_issued_invoices_and_lines(admin_database_url, world):
    data_api = DataApi(admin_database_url)
    try:
        # When the customer's JWT selects invoices and lines with no filter at all
        columns = ["id", "status", "amount_due", "amount_credited"]
        invoices = data_api.request(
            select_statement("customer_invoices", columns), claims=customer_claims(ME)
        )
        lines = data_api.request(
            select_statement("invoice_line_items", ["invoice_id"]), claims=customer_claims(ME)
        )
        # Then only the issued invoice (and its line) comes back; amount_credited is readable
        assert invoices.ok and [str(r["id"]) for r in invoices.rows] == [world["issued"]["id"]]
        assert invoices.rows[0]["amount_credited"] == 0
        assert [str(r["invoice_id"]) for r in lines.rows] == [world["issued"]["id"]]
        # And the written-off amount and the action log are not theirs to read
        hidden = data_api.request(
            select_statement("customer_invoices", ["amount_written_off"]), claims=customer_claims(ME)
        )
        assert hidden.refused_by_privilege
        log = data_api.request(select_statement("invoice_action_log"), claims=customer_claims(ME))
        assert log.refused_by_privilege
        # And a customer's JWT cannot write an invoice's credit
        update = data_api.request(
            "update public.customer_invoices set amount_credited = total_amount", claims=customer_claims(ME)
        )
        assert update.refused
    finally:
        data_api.close()


def test_the_api_customer_session_sees_the_same_rows_without_a_where_clause(world):
    with db.customer_session(customer_claims(ME)) as (session, _):
        invoices = session.execute("select id from customer_invoices").fetchall()
        lines = session.execute("select invoice_id from invoice_line_items").fetchall()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            session.execute("select * from invoice_action_log")
    assert [str(r["id"]) for r in invoices] == [world["issued"]["id"]]
    assert [str(r["invoice_id"]) for r in lines] == [world["issued"]["id"]]


@pytest.mark.parametrize(
    "statement", ["update invoice_action_log set reason = 'rewritten'", "delete from invoice_action_log"]
)
def test_the_invoice_action_log_is_append_only(admin_database_url, conn, world, statement):
    # Given a log row; the service role is refused by privilege, the superuser by the trigger
    with psycopg.connect(admin_database_url, row_factory=dict_row) as other:
        other.execute("set local role service_role")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            other.execute(statement)
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="append-only"):
        conn.execute(statement)
    assert conn.execute("select reason from invoice_action_log").fetchall() == [{"reason": "why"}]
