"""The server's secret key (from the environment, or a key file created on first start), and
the workspace id derived from it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import uuid
from pathlib import Path


def load_or_create_secret_key(configured: str | None, home: Path) -> bytes:
    """Return the key bytes. A configured key wins; otherwise `home/secret.key` is read, or
    created with mode 0600 (created exclusively, so two processes starting together agree)."""
    if configured:
        return configured.encode()
    path = home / "secret.key"
    home.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    key = base64.urlsafe_b64encode(secrets.token_bytes(32))
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key


def workspace_id(key: bytes) -> str:
    """The workspace's stable id (Hex's `org.id`), derived from the server's secret key.

    The key already is the workspace's identity: every token hash depends on it, so a server
    with another key cannot accept this workspace's tokens anyway. Deriving the id (rather
    than storing one) means every replica agrees without a table or a race on first start.
    HMAC keeps the key itself out of reach of whoever sees the id.
    """
    digest = hmac.new(key, b"runyard workspace id", hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))
