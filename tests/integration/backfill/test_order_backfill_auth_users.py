"""Where auth.users exists (Supabase), an order naming an auth user that does not exist is a validation error.

Before, the backfill planned a new customer with that auth_user_id and the customers_auth_user_id_fkey
aborted the whole run at the write, while the dry run (writing nothing) reported success.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.factories import ensure_auth_users
from tests.integration.backfill.test_order_backfill import _order, backfill

GHOST = "a0000000-0000-4000-8000-00000000dead"
REAL = "a0000000-0000-4000-8000-00000000beef"


@pytest.fixture
def auth_users(conn) -> Iterator[None]:
    """auth.users with its foreign key from customers, as on Supabase (a Supabase-shaped database already
    has both; on plain PostgreSQL they are laid here for the test and removed after)."""
    created = conn.execute("select to_regclass('auth.users') is null as missing").fetchone()["missing"]
    if created:
        conn.execute("create table auth.users (id uuid primary key, aud text, role text, email text)")
        conn.execute(
            "alter table public.customers add constraint customers_auth_user_id_fkey"
            " foreign key (auth_user_id) references auth.users (id) on delete set null"
        )
    try:
        yield
    finally:
        if created:
            conn.execute("alter table public.customers drop constraint customers_auth_user_id_fkey")
            conn.execute("drop table auth.users")


@pytest.fixture
def orders(conn, auth_users) -> dict[str, str]:
    conn.execute(
        "insert into service_packages (name, service_type, speed_down_mbps, speed_up_mbps, monthly_price)"
        " values ('Fibre 50/50', 'fibre', 50, 50, '699.00')"
    )
    ensure_auth_users(conn, [REAL])
    tag = uuid.uuid4().hex[:6]
    return {
        "ghost": _order(conn, auth_user_id=GHOST, email=f"ghost-{tag}@example.co.za", phone="082 000 0001"),
        "real": _order(conn, auth_user_id=REAL, email=f"real-{tag}@example.co.za", phone="082 000 0002"),
        "anonymous": _order(conn, email=f"anon-{tag}@example.co.za", phone="082 000 0003"),
    }


def test_the_dry_run_predicts_the_error_and_writes_nothing(conn, clean_db, orders):
    # Given three orders, one naming an auth user that does not exist
    # When the backfill runs dry
    details = backfill(dry_run=True)["details"]
    # Then it predicts the error for that order and new customers for the other two
    assert details["validation_errors"] == {"inconsistent_auth_user_id": 1}
    assert details["customers_created"] == 2
    # And nothing was written
    assert conn.execute("select count(*) as n from customers").fetchone()["n"] == 0
    assert conn.execute("select count(*) as n from validation_errors").fetchone()["n"] == 0


def test_the_run_records_the_error_and_links_the_other_orders(conn, clean_db, orders):
    # Given the same orders / When the backfill runs for real
    row = backfill()
    # Then the run completes (no foreign-key abort) exactly as the dry run predicted
    assert row["status"] == "partial"
    assert row["details"]["validation_errors"] == {"inconsistent_auth_user_id": 1}
    assert row["details"]["customers_created"] == 2
    # And the order's error says the auth user is missing, with no personal data
    error = conn.execute(
        "select record_id::text, error_code, message, payload from validation_errors"
    ).fetchone()
    assert error["record_id"] == orders["ghost"]
    assert error["error_code"] == "inconsistent_auth_user_id"
    assert "no such auth user" in error["message"]
    assert error["payload"]["auth_user_missing"] is True
    assert GHOST not in str(error)
    # And the order that names a real auth user became that user's customer
    linked = conn.execute(
        "select c.auth_user_id::text from consumer_orders o join customers c on c.id = o.customer_id"
        " where o.id = %s",
        (orders["real"],),
    ).fetchone()
    assert linked == {"auth_user_id": REAL}
    assert conn.execute(
        "select customer_id from consumer_orders where id = %s", (orders["ghost"],)
    ).fetchone() == {"customer_id": None}


def test_without_auth_users_no_auth_user_id_is_questioned(conn, clean_db):
    # Given plain PostgreSQL (no auth.users) / When asked which ids are unknown / Then none
    if conn.execute("select to_regclass('auth.users') is not null as present").fetchone()["present"]:
        pytest.skip("this database has auth.users (Supabase-shaped)")
    rows = conn.execute("select * from public.unknown_auth_user_ids(array[%s::uuid])", (GHOST,)).fetchall()
    assert rows == []
