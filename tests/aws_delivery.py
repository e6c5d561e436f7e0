"""moto S3, SQS and SES for invoice delivery tests: a private bucket, the render queue with its DLQ, a
verified SES sender; the delivery settings point at them while the block runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.chunk_queue import REGION, fake_aws_credentials, queue_arn
from tests.environment import settings_environment

BUCKET = "isp-billing-invoices-test"
SENDER = "billing@isp.example"


@contextmanager
def delivery_aws(
    monkeypatch: pytest.MonkeyPatch, *, max_receives: int = 3, extra: dict[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    fake_aws_credentials(monkeypatch)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})  # as deployed
        sqs = boto3.client("sqs", region_name=REGION)
        dlq_url = sqs.create_queue(QueueName="invoice-pdfs-dlq")["QueueUrl"]
        redrive = json.dumps(
            {"deadLetterTargetArn": queue_arn(sqs, dlq_url), "maxReceiveCount": str(max_receives)}
        )
        url = sqs.create_queue(
            QueueName="invoice-pdfs", Attributes={"VisibilityTimeout": "0", "RedrivePolicy": redrive}
        )["QueueUrl"]
        ses = boto3.client("sesv2", region_name=REGION)
        ses.create_email_identity(EmailIdentity=SENDER)
        environment = {
            "INVOICE_PDF_BUCKET": BUCKET,
            "INVOICE_PDF_QUEUE_URL": url,
            "EMAIL_FROM_ADDRESS": SENDER,
            **(extra or {}),
        }
        with settings_environment(environment):
            yield {
                "s3": s3,
                "sqs": sqs,
                "ses": ses,
                "url": url,
                "arn": queue_arn(sqs, url),
                "dlq_url": dlq_url,
            }
