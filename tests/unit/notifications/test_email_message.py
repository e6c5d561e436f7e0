"""email_transport.build_message: text and HTML parts, the PDF attached unless the message would be too large,
and a Message-ID that is the notification's id (a resend after a crash is recognisable)."""

from __future__ import annotations

import email
import email.policy

from isp_billing.notifications import email_transport
from isp_billing.notifications.email_transport import Attachment, build_message


def _build(attachment):
    return build_message(
        sender="billing@isp.example",
        recipient="thandi@example.test",
        subject="Your tax invoice INV-2026-00001",
        text="Hello",
        html="<p>Hello</p>",
        attachment=attachment,
        reference="0b7e2f4c-0000-4000-8000-000000000001",
    )


def test_the_pdf_is_attached_when_it_fits():
    message = email.message_from_bytes(
        _build(Attachment("INV.pdf", b"%PDF-1.4 x")).as_bytes(), policy=email.policy.default
    )
    assert message["Message-ID"] == "<0b7e2f4c-0000-4000-8000-000000000001@isp.example>"
    assert message.get_body(preferencelist=("plain",)).get_content().strip() == "Hello"
    assert message.get_body(preferencelist=("html",)).get_content().strip() == "<p>Hello</p>"
    assert [(a.get_filename(), a.get_content_type()) for a in message.iter_attachments()] == [
        ("INV.pdf", "application/pdf")
    ]


def test_a_message_too_large_with_its_attachment_goes_without_it(monkeypatch):
    # Given a size limit below the attachment's encoded size
    monkeypatch.setattr(email_transport, "MAX_MESSAGE_BYTES", 2_000)
    # When the message is built / Then it has the text and no attachment
    message = _build(Attachment("INV.pdf", b"x" * 5_000))
    assert list(message.iter_attachments()) == []
    assert len(message.as_bytes()) < 2_000
