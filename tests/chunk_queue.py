"""A job's SQS chunk queue under moto, as the template recipe in jobs_fanout.py builds it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.environment import settings_environment

REGION = "af-south-1"


@contextmanager
def chunk_queue(
    monkeypatch: pytest.MonkeyPatch, name: str, *, chunk_size: int, max_receives: int
) -> Iterator[dict[str, str]]:
    """A chunk queue with a DLQ after `max_receives` receives; visibility 0 so a failed message is visible
    again at once (the test plays Lambda's poller). The job settings point at it while the block runs."""
    fake_aws_credentials(monkeypatch)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = queue_arn(sqs, dlq_url)
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
        url = sqs.create_queue(
            QueueName=f"{name}-chunks", Attributes={"VisibilityTimeout": "0", "RedrivePolicy": redrive}
        )["QueueUrl"]
        environment = {
            "JOB_CHUNK_QUEUE_URL": url,
            "JOB_CHUNK_SIZE": str(chunk_size),
            "JOB_CHUNK_MAX_RECEIVES": str(max_receives),
        }
        with settings_environment(environment):
            yield {"url": url, "arn": queue_arn(sqs, url), "dlq_url": dlq_url}


def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The region and moto's fake credentials, for this test only."""
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # moto's fake credentials
    }.items():
        monkeypatch.setenv(key, value)


def receive(queue_url: str) -> list[dict[str, Any]]:
    """Up to 10 visible messages with their attributes (ApproximateReceiveCount included)."""
    sqs = boto3.client("sqs", region_name=REGION)
    return sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
    ).get("Messages", [])


def queue_arn(sqs: Any, queue_url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
