"""What every notification channel is given, and the one thing it does: send it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Attachment:
    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    attachments: tuple[Attachment, ...] = ()


class DeliveryFailed(Exception):
    """The channel could not deliver; the message says why (never a secret)."""


class Channel(Protocol):
    name: str

    def send(self, recipient: str, message: Message) -> None:
        """Deliver `message` to `recipient` or raise DeliveryFailed."""
