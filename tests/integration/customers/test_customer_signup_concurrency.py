"""Two sign-ups with the same e-mail at the same moment, in real overlapping transactions: one customer, and
the other request hears 409 naming the account the first one created."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from isp_billing.auth import AdminPrincipal
from isp_billing.customers import admin as customer_admin
from isp_billing.customers import customers_sql
from isp_billing.customers.admin_models import CustomerCreateRequest
from isp_billing.errors import Conflict
from tests.concurrency import wait_until_a_session_waits_for_a_lock
from tests.factories import insert_admin


def _principal(conn) -> AdminPrincipal:
    admin_id, auth_id = insert_admin(conn, role="support")
    return AdminPrincipal(
        admin_id=uuid.UUID(admin_id), auth_user_id=uuid.UUID(auth_id), role="support", email="", full_name="S"
    )


def test_a_concurrent_signup_with_the_same_email_is_409_naming_the_first_account(conn, admin_database_url):
    admin = _principal(conn)
    body = CustomerCreateRequest(first_name="Zanele", last_name="Khumalo", email="zanele@example.co.za")
    outcome: dict[str, Any] = {}
    with (
        psycopg.connect(admin_database_url, row_factory=dict_row) as first,
        psycopg.connect(admin_database_url, row_factory=dict_row) as second,
    ):

        def second_signup() -> None:
            try:
                with second.transaction():
                    outcome["result"] = customer_admin.create(second, admin, body, "req-2")
            except Exception as error:
                outcome["error"] = error

        worker = threading.Thread(target=second_signup)
        with first.transaction():
            # Given a first sign-up whose customer row is written but not yet committed
            first_id = customers_sql.insert_customer(
                first, {"first_name": "Zanele", "last_name": "Khumalo", "email": "Zanele@Example.co.za"}
            )
            # When a second sign-up with the same e-mail (other case) runs, and waits on the first
            worker.start()
            wait_until_a_session_waits_for_a_lock(conn)
        # (the first commits here)
        worker.join(timeout=30)
    # Then the second is a Conflict naming the first one's account number, and only one customer exists
    error = outcome.get("error")
    assert isinstance(error, Conflict), outcome
    account = conn.execute("select account_number from customers where id = %s", (first_id,)).fetchone()
    assert error.extra["account_number"] == account["account_number"]
    assert conn.execute("select count(*) as n from customers").fetchone()["n"] == 1
    assert conn.execute("select count(*) as n from customer_audit_log").fetchone()["n"] == 0


@pytest.mark.parametrize("email", ["ZANELE@example.co.za", "zanele@EXAMPLE.CO.ZA"])
def test_the_database_refuses_a_second_customer_with_the_same_email_in_any_case(conn, email):
    # Given a customer / When another row with the same e-mail in other case is inserted directly
    conn.execute(
        "insert into customers (first_name, last_name, email) values ('Z', 'K', 'zanele@example.co.za')"
    )
    # Then the unique index refuses it: the rule does not depend on the API's own check
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("insert into customers (first_name, last_name, email) values ('Z', 'K', %s)", (email,))
