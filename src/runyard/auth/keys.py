"""The server's secret key: from the environment, or a key file created on first start."""

from __future__ import annotations

import base64
import os
import secrets
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
