"""Both customer usage reads behind Row Level Security: the repository queries, handed another customer's id
(as if the code's own filter were wrong), still return nothing in a customer's session."""

from __future__ import annotations

import uuid
from datetime import timedelta

import psycopg
import pytest

from isp_billing import db
from isp_billing.clock import sast_today
from isp_billing.usage import sql as usage
from tests.factories import insert_customer, insert_service


def _claims(auth_user_id: str) -> dict:
    return {"sub": auth_user_id, "role": "authenticated", "aud": "authenticated"}


def test_usage_reads_of_another_customers_id_return_nothing_in_a_customer_session(conn):
    # Given two customers with a synced day each
    today = sast_today()
    me_auth, them_auth = str(uuid.uuid4()), str(uuid.uuid4())
    mine = insert_customer(conn, auth_user_id=me_auth)
    theirs = insert_customer(conn, auth_user_id=them_auth)
    for customer in (mine, theirs):
        service = insert_service(conn, customer)
        conn.execute(
            "insert into usage_history (customer_id, service_id, usage_date, upload_mb, download_mb, source,"
            " synced_at) values (%s, %s, %s, 1, 2, 'interstellio', now())",
            (customer, service, today),
        )
    first = today - timedelta(days=30)
    # When my session runs the current-period, daily-history and monthly-history reads with *their* id
    with db.customer_session(_claims(me_auth)) as (session, customer_id):
        assert str(customer_id) == mine
        their = uuid.UUID(theirs)
        leaked_days = usage.effective_days(session, their, first, today)
        leaked_months = usage.effective_months(session, their, first, today)
        leaked_sync = usage.last_synced_at(session, their)
        leaked_services = usage.customer_services_with_caps(session, their)
        # And with my own id
        own_days = usage.effective_days(session, customer_id, first, today)
    # Then the policy alone hides every row of theirs, and mine are there
    assert leaked_days == [] and leaked_months == [] and leaked_sync is None and leaked_services == []
    assert len(own_days) == 1


def test_a_customers_session_can_write_no_usage(conn):
    # Given a customer with a service
    me_auth = str(uuid.uuid4())
    mine = insert_customer(conn, auth_user_id=me_auth)
    service = insert_service(conn, mine)
    # When their session tries to insert a usage row / Then the database refuses it
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.customer_session(_claims(me_auth)) as (s, _):
        s.execute(
            "insert into usage_history (customer_id, service_id, usage_date, upload_mb, download_mb, source)"
            " values (%s, %s, current_date, 1, 1, 'manual')",
            (mine, service),
        )
