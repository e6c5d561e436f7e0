"""The billing run fanned out through a (moto) SQS queue: the parent plans, chunks are billed by the same
function from SQS events, the parent's counts add up its chunks, and a re-delivered chunk changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from isp_billing_cli.events import LambdaContext
from isp_billing_cli.template import function_by_id
from tests.billing_helpers import billed_customer, table_counts
from tests.environment import settings_environment
from tests.events import sqs_event_from_messages

FUNCTION = "GenerateInvoicesFunction"


@pytest.fixture
def queue(monkeypatch) -> Iterator[dict[str, str]]:
    for key, value in {
        "AWS_DEFAULT_REGION": "af-south-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # moto's fake credentials
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="af-south-1")
        dlq = sqs.create_queue(QueueName="billing-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
        url = sqs.create_queue(
            QueueName="billing-chunks", Attributes={"VisibilityTimeout": "0", "RedrivePolicy": redrive}
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        with settings_environment(
            {"JOB_CHUNK_QUEUE_URL": url, "JOB_CHUNK_SIZE": "4", "JOB_CHUNK_MAX_RECEIVES": "3"}
        ):
            yield {"url": url, "arn": arn}


def _receive(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="af-south-1")
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
        "Messages", []
    )


def test_a_fanned_out_run_bills_every_customer_once_and_closes_the_parent(conn, queue):
    # Given ten customers due on 5 March and a chunk size of 4 (three chunks)
    customers = [billed_customer(conn, billing_day=5)[0] for _ in range(10)]
    handler = function_by_id(FUNCTION).load_handler()
    # When the run starts: the parent plans and queues its chunks, and stays running
    parent = handler({"run_date": "2026-03-05"}, LambdaContext(FUNCTION))
    assert parent["status"] == "running" and parent["details"]["billed_through"] == "2026-03-05"
    assert conn.execute("select count(*) as n from customer_invoices").fetchone()["n"] == 0
    messages = _receive(queue["url"])
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
