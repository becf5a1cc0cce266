"""Email over SMTP, with the standard library's smtplib."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

from runyard.notify.base import DeliveryFailed, Message


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout_seconds: float = 10.0


class EmailChannel:
    name = "email"

    def __init__(self, smtp: SmtpSettings) -> None:
        self._smtp = smtp

    def send(self, recipient: str, message: Message) -> None:
        email = EmailMessage()
        email["From"] = self._smtp.sender
        email["To"] = recipient
        email["Subject"] = message.subject
        email.set_content(message.text)
        for attachment in message.attachments:
            maintype, _, subtype = attachment.media_type.partition(";")[0].partition("/")
            email.add_attachment(
                attachment.content,
                maintype=maintype,
                subtype=subtype,
                filename=attachment.filename,
            )
        try:
            with smtplib.SMTP(
                self._smtp.host, self._smtp.port, timeout=self._smtp.timeout_seconds
            ) as smtp:
                if self._smtp.starttls:
                    smtp.starttls()
                if self._smtp.username:
                    smtp.login(self._smtp.username, self._smtp.password or "")
                smtp.send_message(email)
        except (OSError, smtplib.SMTPException) as error:
            # The error names the server's answer, never the credentials sent.
            raise DeliveryFailed(f"SMTP {self._smtp.host}:{self._smtp.port}: {error}") from None
