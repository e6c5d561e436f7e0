"""The billing run fanned out through a (moto) SQS queue: the parent plans, chunks are billed by the same
function from SQS events, the parent's counts add up its chunks, and a re-delivered chunk changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from isp_billing_cli.events import LambdaContext
from isp_billing_cli.template import function_by_id
from tests.billing_helpers import billed_customer, table_counts
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
