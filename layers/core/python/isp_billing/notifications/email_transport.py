"""Where an e-mail goes: Amazon SES (v2, raw MIME so a PDF can be attached) or a local outbox folder of .eml
files (`make run`, and any stage without SES), which any mail program opens.

A transport answers the provider's message id, or raises `PermanentSendError` (the address or the message
is refused: retrying cannot help) or any other exception (transient: retried with backoff). Neither error
carries the address: error texts end up in `notifications.last_error` and in logs.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol

from isp_billing.settings import get_settings

# SES v2 accepts raw messages up to 40 MB; we stay well under the 10 MB many receiving servers still apply,
# and send the link alone when the encoded message with its attachment would be larger.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024

# SES v2 error codes that mean "this message or address will never be accepted".
PERMANENT_SES_ERRORS = frozenset({"MessageRejected", "BadRequestException", "NotFoundException"})


class PermanentSendError(Exception):
    """The message or its address is refused for good; the text is safe to store (no address in it)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "application"
    subtype: str = "pdf"


class Transport(Protocol):
    def send(self, message: EmailMessage) -> str: ...


def build_message(
    *,
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    attachment: Attachment | None,
    reference: str,
) -> EmailMessage:
    """A MIME message; the attachment is left off when it would make the message too large."""
    message = _message(sender, recipient, subject, text, html, reference)
    if attachment is not None:
        with_attachment = _message(sender, recipient, subject, text, html, reference)
        with_attachment.add_attachment(
            attachment.content,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=attachment.filename,
        )
        if len(with_attachment.as_bytes()) <= MAX_MESSAGE_BYTES:
            return with_attachment
    return message


def _message(
    sender: str, recipient: str, subject: str, text: str, html: str | None, reference: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    # The notification's id: a resend after a crash carries the same Message-ID, which receivers dedupe on.
    message["Message-ID"] = f"<{reference}@{sender.rsplit('@', 1)[-1]}>"
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


class SesTransport:
    def __init__(self, configuration_set: str | None = None) -> None:
        import boto3  # only where SES is the transport

        self._client = boto3.client("sesv2")
        self._configuration_set = configuration_set

    def send(self, message: EmailMessage) -> str:
        from botocore.exceptions import ClientError

        request: dict[str, object] = {
            "FromEmailAddress": str(message["From"]),
            "Destination": {"ToAddresses": [str(message["To"])]},
            "Content": {"Raw": {"Data": message.as_bytes()}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            answer = self._client.send_email(**request)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in PERMANENT_SES_ERRORS:
                raise PermanentSendError(f"SES refused the message ({code})") from None
            raise TransientSendError(f"SES did not take the message ({code or 'no code'})") from None
        return str(answer["MessageId"])


class TransientSendError(Exception):
    """Worth another try later (throttling, an outage); the text is safe to store."""


class OutboxFolderTransport:
    """Each e-mail as `<folder>/<reference>.eml`, written whole (temp file, then rename)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        reference = str(message["Message-ID"]).strip("<>").split("@", 1)[0]
        target = self.folder / f"{reference}.eml"
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            file.write(message.as_bytes())
        os.replace(temporary, target)
        return f"outbox:{target.name}"


def outbox_folder() -> Path:
    settings = get_settings()
    return Path(settings.notifications_outbox_dir or Path(settings.data_dir) / "outbox")


def configured_transport() -> Transport:
    settings = get_settings()
    if settings.email_delivery == "ses":
        return SesTransport(settings.ses_configuration_set)
    return OutboxFolderTransport(outbox_folder())
