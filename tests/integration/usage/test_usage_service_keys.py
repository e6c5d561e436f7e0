"""usage_history's (service_id, customer_id) -> customer_services rule, checked once per statement since
20261203002100 (it was a foreign key, a trigger call per row): an unknown service or another customer's
service is still refused, on insert and on update, for the runtime role as for the owner; a service with
usage can still be neither deleted nor moved to another customer; and a delete of the service that goes
first makes a concurrent write of its usage fail, not leave an orphan."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from psycopg import errors

from isp_billing import db
from isp_billing.usage import sql as usage
from tests.factories import insert_customer, insert_service

_INSERT = (
    "insert into usage_history (customer_id, service_id, usage_date, upload_mb, download_mb, source)"
    " values (%s, %s, %s, 1, 2, 'interstellio')"
)
DAY = date(2026, 3, 1)


def _count(conn: psycopg.Connection) -> int:
    return conn.execute("select count(*) as n from usage_history").fetchone()["n"]


@pytest.mark.parametrize("wrong", ["unknown_service", "another_customers_service"])
def test_usage_naming_an_unknown_or_another_customers_service_is_refused(conn, wrong):
    # Given two customers with a service each
    mine, theirs = insert_customer(conn), insert_customer(conn)
    my_service, their_service = insert_service(conn, mine), insert_service(conn, theirs)
    service = {"unknown_service": str(uuid.uuid4()), "another_customers_service": their_service}[wrong]

    # When the runtime role writes two days in one statement, one of them naming the wrong service
    # Then the database refuses the statement, and neither day is stored
    with pytest.raises(errors.ForeignKeyViolation) as refused, db.service_session() as session:
        session.execute(
            "insert into usage_history (customer_id, service_id, usage_date, upload_mb, download_mb, source)"
            " values (%s, %s, %s, 1, 2, 'interstellio'), (%s, %s, %s, 1, 2, 'interstellio')",
            (mine, my_service, DAY, mine, service, DAY),
        )
    assert refused.value.diag.constraint_name == "usage_history_service_customer_fkey"
    assert service in (refused.value.diag.message_detail or "")
    assert _count(conn) == 0


def test_moving_a_usage_row_to_another_customer_is_refused(conn):
    # Given a stored day of my service
    mine, theirs = insert_customer(conn), insert_customer(conn)
    conn.execute(_INSERT, (mine, insert_service(conn, mine), DAY))

    # When an update gives the row another customer
    # Then the database refuses it
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute("update usage_history set customer_id = %s", (theirs,))
    assert conn.execute("select customer_id from usage_history").fetchone()["customer_id"] == uuid.UUID(mine)


def test_the_sync_upsert_writes_and_rewrites_through_the_check(conn):
    # Given a service
    customer = insert_customer(conn)
    service = uuid.UUID(insert_service(conn, customer))
    rows = [(service, DAY, Decimal("1.000"), Decimal("2.000"))]

    # When the sync's upsert writes the day, then rewrites it (the update path)
    with db.service_session() as session:
        first = usage.upsert_synced(session, rows)
    with db.service_session() as session:
        again = usage.upsert_synced(session, [(service, DAY, Decimal("3.000"), Decimal("2.000"))])

    # Then both statements pass the check and the day holds the new figures
    assert (first, again) == (1, 1)
    assert conn.execute("select upload_mb from usage_history").fetchone()["upload_mb"] == Decimal("3.000")


def test_a_service_with_usage_can_be_neither_deleted_nor_given_to_another_customer(conn):
    # Given a service with a stored day, and one without usage
    customer, other = insert_customer(conn), insert_customer(conn)
    used, unused = insert_service(conn, customer), insert_service(conn, customer)
    conn.execute(_INSERT, (customer, used, DAY))

    # When each is deleted, or the used one is given to another customer
    # Then the used one is refused both ways (ON DELETE RESTRICT, as the key was), the unused one goes
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute("delete from customer_services where id = %s", (used,))
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute("update customer_services set customer_id = %s where id = %s", (other, used))
    conn.execute("delete from customer_services where id = %s", (unused,))
    assert conn.execute("select count(*) as n from customer_services").fetchone()["n"] == 1
    assert _count(conn) == 1


def test_a_write_waiting_on_a_service_deleted_first_fails_and_leaves_no_orphan(conn, admin_database_url):
    # Given a service without usage, deleted (not yet committed) in one transaction
    customer = insert_customer(conn)
    service = insert_service(conn, customer)
    deleter = psycopg.connect(admin_database_url)
    deleter.execute("delete from customer_services where id = %s", (service,))

    # When another transaction writes usage for it (its check waits on the delete's row lock)
    outcome: list[BaseException | None] = []

    def write() -> None:
        try:
            with psycopg.connect(admin_database_url, autocommit=True) as writer:
                writer.execute(_INSERT, (customer, service, DAY))
            outcome.append(None)
        except BaseException as error:  # handed to the test: a thread cannot raise into it
            outcome.append(error)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(timeout=1)
    assert thread.is_alive(), "the write should wait for the delete"
    deleter.commit()
    deleter.close()
    thread.join(timeout=30)

    # Then, the service gone, the write is refused and no usage row is left behind
    assert len(outcome) == 1 and isinstance(outcome[0], errors.ForeignKeyViolation)
    assert _count(conn) == 0
