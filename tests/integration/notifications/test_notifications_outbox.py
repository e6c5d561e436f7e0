"""The notifications outbox's queue (repositories/notifications): one row per dedupe key, written in the
caller's transaction, addressed to the customer's billing e-mail unless told otherwise."""

from __future__ import annotations

import uuid

from isp_billing import db
from isp_billing.notifications import queue_sql as notifications
from isp_billing.notifications.queue_sql import NotificationRequest
from tests.factories import insert_customer


def _request(customer_id, key: str, **extra) -> NotificationRequest:
    return NotificationRequest(
        customer_id=uuid.UUID(customer_id),
        kind="invoice_issued",
        subject="Your invoice",
        template="invoice_issued",
        dedupe_key=key,
        data={"total": "699.00"},
        **extra,
    )


def test_a_dedupe_key_queues_one_row_however_often_it_is_queued(clean_db, conn):
    # Given a customer
    customer_id = insert_customer(conn)
    # When the same event is queued twice, in two transactions, and once more in a batch
    with db.service_session() as runtime:
        assert notifications.queue(runtime, _request(customer_id, "invoice_issued:1")) is True
    with db.service_session() as runtime:
        assert notifications.queue(runtime, _request(customer_id, "invoice_issued:1")) is False
        assert (
            notifications.queue_many(
                runtime,
                [_request(customer_id, "invoice_issued:1"), _request(customer_id, "invoice_issued:2")],
            )
            == 1
        )
    # Then one row per key, pending, with the template's data
    rows = conn.execute(
        "select dedupe_key, status, data, attempts from notifications order by dedupe_key"
    ).fetchall()
    assert [tuple(r.values()) for r in rows] == [
        ("invoice_issued:1", "pending", {"total": "699.00"}, 0),
        ("invoice_issued:2", "pending", {"total": "699.00"}, 0),
    ]


def test_the_recipient_is_the_billing_email_then_the_customer_email_unless_given(clean_db, conn):
    # Given a customer with a billing e-mail, and one without a billing row
    with_billing = insert_customer(conn, email="own@example.test")
    conn.execute(
        "update customer_billing set invoice_email = 'accounts@example.test' where customer_id = %s",
        (with_billing,),
    )
    without_billing = insert_customer(conn, email="plain@example.test")
    conn.execute("delete from customer_billing where customer_id = %s", (without_billing,))
    # When notifications are queued for both, and one with an explicit recipient
    with db.service_session() as runtime:
        notifications.queue(runtime, _request(with_billing, "a"))
        notifications.queue(runtime, _request(without_billing, "b"))
        notifications.queue(runtime, _request(without_billing, "c", recipient="other@example.test"))
    # Then each is addressed as the rule says
    queued = conn.execute("select dedupe_key, recipient from notifications")
    rows = {r["dedupe_key"]: r["recipient"] for r in queued}
    assert rows == {"a": "accounts@example.test", "b": "plain@example.test", "c": "other@example.test"}


def test_a_queued_row_disappears_with_its_rolled_back_event(clean_db, conn):
    # Given a transaction that queues and then fails
    customer_id = insert_customer(conn)
    try:
        with db.service_session() as runtime:
            notifications.queue(runtime, _request(customer_id, "rolled-back"))
            raise RuntimeError("the event failed")
    except RuntimeError:
        pass
    # Then nothing was queued
    assert conn.execute("select count(*) as n from notifications").fetchone()["n"] == 0
