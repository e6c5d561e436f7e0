"""The billing run fanned out through a (moto) SQS queue: the parent plans, chunks are billed by the same
function from SQS events, the parent's counts add up its chunks, and a re-delivered chunk changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from isp_billing_cli.events import LambdaContext
from isp_billing_cli.template import function_by_id
from tests.billing_helpers import billed_customer, invoices_of, lines_of, table_counts
from tests.chunk_queue import chunk_queue, receive
from tests.events import sqs_event_from_messages

FUNCTION = "GenerateInvoicesFunction"


@pytest.fixture
def queue(monkeypatch) -> Iterator[dict[str, str]]:
    with chunk_queue(monkeypatch, "billing", chunk_size=4, max_receives=3) as created:
        yield created


def test_a_fanned_out_run_bills_every_customer_once_and_closes_the_parent(conn, queue):
    # Given ten customers due on 5 March and a chunk size of 4 (three chunks)
    customers = [billed_customer(conn, billing_day=5)[0] for _ in range(10)]
    handler = function_by_id(FUNCTION).load_handler()
    # When the run starts: the parent plans and queues its chunks, and stays running
    parent = handler({"run_date": "2026-03-05"}, LambdaContext(FUNCTION))
    assert parent["status"] == "running" and parent["details"]["billed_through"] == "2026-03-05"
    assert conn.execute("select count(*) as n from customer_invoices").fetchone()["n"] == 0
    messages = receive(queue["url"])
    assert len(messages) == 3
    # When Lambda delivers the chunk messages as SQS events
    answer = handler(sqs_event_from_messages(messages, queue["arn"]), LambdaContext(FUNCTION))
    # Then every customer has one invoice and the parent is completed with the summed counts
    assert answer["batchItemFailures"] == []
    per_customer = conn.execute(
        "select customer_id, count(*) as n from customer_invoices group by 1"
    ).fetchall()
    assert len(per_customer) == len(customers) and {row["n"] for row in per_customer} == {1}
    row = conn.execute("select * from cron_execution_log where parent_id is null").fetchone()
    assert (row["status"], row["records_processed"]) == ("completed", 10)
    # And a chunk re-delivered by SQS changes nothing
    before = table_counts(conn)
    again = handler(sqs_event_from_messages(messages[:1], queue["arn"]), LambdaContext(FUNCTION))
    assert again["batchItemFailures"] == [] and table_counts(conn) == before


def _price_change(conn, customer_id: str, service_id: str, effective: str, old: str, new: str) -> None:
    """The price_change audit row the run reads (as POST …/change-price writes it)."""
    conn.execute(
        "insert into service_action_log (service_id, customer_id, action, previous_status, new_status,"
        " actor_type, details) values (%s, %s, 'price_change', 'active', 'active', 'system',"
        " jsonb_build_object('effective_date', %s::text, 'old_price', %s::text, 'new_price', %s::text))",
        (service_id, customer_id, effective, old, new),
    )


def test_a_catch_up_over_two_periods_bills_them_in_order_whatever_order_the_chunks_arrive_in(conn, queue):
    # Given a completed run on 31 January, then none until 5 March (catch-up 1 Feb .. 5 Mar: customers
    # billed on the 5th are due twice), and a customer whose price went 699 -> 899 on 20 February
    handler = function_by_id(FUNCTION).load_handler()
    assert handler({"run_date": "2026-01-31"}, LambdaContext(FUNCTION))["status"] == "completed"
    changed, (service,) = billed_customer(
        conn, billing_day=5, services=[{"price": "899.00", "activation_date": "2025-06-01"}]
    )
    _price_change(conn, changed, service, "2026-02-20", "699.00", "899.00")
    twice = [billed_customer(conn, billing_day=5)[0] for _ in range(5)]
    once = [billed_customer(conn, billing_day=10)[0] for _ in range(3)]
    parent = handler({"run_date": "2026-03-05"}, LambdaContext(FUNCTION))
    assert parent["status"] == "running" and parent["details"]["billed_from"] == "2026-02-01"
    messages = receive(queue["url"])
    assert len(messages) > 2
    # When Lambda delivers the chunks last first, one at a time (SQS promises no order)
    for message in sorted(messages, key=lambda m: -json.loads(m["Body"])["chunk_no"]):
        answer = handler(sqs_event_from_messages([message], queue["arn"]), LambdaContext(FUNCTION))
        assert answer["batchItemFailures"] == []
    # Then February was billed before March for every customer due twice: March's invoice carries the
    # price change of the invoiced February period, (899 - 699) x 13 / 28 days = 92.86
    february, march = invoices_of(conn, changed)
    assert (str(february["period_start"]), lines_of(conn, february["id"])) == (
        "2026-02-05",
        [("recurring", "699.00")],
    )
    assert str(march["period_start"]) == "2026-03-05"
    assert lines_of(conn, march["id"]) == [("recurring", "899.00"), ("adjustment", "92.86")]
    assert [len(invoices_of(conn, c)) for c in twice] == [2] * 5
    assert [len(invoices_of(conn, c)) for c in once] == [1] * 3
    numbers = [
        r["invoice_number"] for r in conn.execute("select invoice_number from customer_invoices order by 1")
    ]
    assert numbers == [f"INV-2026-{n:05d}" for n in range(1, 16)]
    row = conn.execute(
        "select * from cron_execution_log where parent_id is null order by execution_start desc"
    ).fetchone()
    assert (row["status"], row["records_processed"]) == ("completed", 15)
