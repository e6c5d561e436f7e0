"""template.yaml's invoice delivery resources keep their promises: a private, encrypted, versioned, TLS-only
bucket kept 5+ years; a render queue that dead-letters; a sender that may only send mail."""

from __future__ import annotations

from isp_billing_cli.template import load_template

RESOURCES = load_template()["Resources"]


def test_the_invoice_bucket_is_private_encrypted_versioned_and_never_expires():
    bucket = RESOURCES["InvoicePdfBucket"]
    properties = bucket["Properties"]
    # Then public access is blocked four ways, objects are SSE-encrypted and versioned
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(properties["PublicAccessBlockConfiguration"]) == 4
    rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert properties["VersioningConfiguration"]["Status"] == "Enabled"
    # and nothing is ever expired: only transitions to infrequent access after 30+ days
    for lifecycle in properties["LifecycleConfiguration"]["Rules"]:
        assert not {key for key in lifecycle if "Expiration" in key}
        for transition in lifecycle["Transitions"] + lifecycle.get("NoncurrentVersionTransitions", []):
            assert transition["StorageClass"] == "STANDARD_IA" and transition["TransitionInDays"] >= 30
    # and the bucket outlives the stack (tax records are kept 5 years)
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"


def test_the_invoice_bucket_refuses_requests_without_tls():
    statement = RESOURCES["InvoicePdfBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_render_queue_dead_letters_and_its_function_reports_partial_failures():
    queue = RESOURCES["InvoicePdfRenderQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 2
    function = RESOURCES["RenderInvoicePdfsFunction"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]
    event = function["Events"]["Renders"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "InvoicePdfRenderDeadLettersAlarm" in RESOURCES
    # and the billing run may send to it and is told where it is
    billing = RESOURCES["GenerateInvoicesFunction"]["Properties"]
    assert "INVOICE_PDF_QUEUE_URL" in billing["Environment"]["Variables"]


def test_the_sender_uses_ses_may_only_send_and_has_a_given_up_alarm():
    function = RESOURCES["SendNotificationsFunction"]["Properties"]
    assert function["Environment"]["Variables"]["EMAIL_DELIVERY"] == "ses"
    statements = [p["Statement"] for p in function["Policies"] if isinstance(p, dict) and "Statement" in p]
    actions = {s["Action"] for group in statements for s in group}
    assert actions == {"ses:SendEmail"}
    assert function["Events"]["Schedule"]["Properties"]["ScheduleExpression"] == "rate(5 minutes)"
    alarm = RESOURCES["NotificationsGivenUpAlarm"]["Properties"]
    assert alarm["MetricName"] == "NotificationsFailed"
