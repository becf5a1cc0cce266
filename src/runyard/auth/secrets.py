"""Encryption at rest for data-connection secrets.

Fernet (AES-128-CBC with an HMAC-SHA256 tag, a random IV per value) under a key derived from
the server's secret key (`RUNYARD_SECRET_KEY`, or the key file) with HKDF-SHA256. The
derivation's `info` label keeps this key apart from the other uses of the server key (token
hashes, session cookies): a leak of one derived key reveals nothing about the others.

Key rotation is not supported yet: a changed server key makes stored secrets unreadable,
which `open` reports as `SecretsUnreadable` (enter the secrets again to re-encrypt them).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from runyard.errors import Unprocessable

HKDF_INFO = b"runyard data-connection secrets"


class SecretsUnreadable(Unprocessable):
    """Stored secrets fail to decrypt: the server key changed, or the value was tampered with."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"The secrets of {what} cannot be decrypted with this server's secret key "
            "(was RUNYARD_SECRET_KEY or the key file changed?); enter them again to "
            "re-encrypt them"
        )
        self.what = what


class SecretBox:
    """Seals and opens secret strings; holds the derived key, never the server key."""

    def __init__(self, server_key: bytes) -> None:
        if not server_key:
            raise ValueError("the server secret key is empty")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
            server_key
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def open(self, token: str, *, what: str) -> str:
        """The plaintext of `token`; `what` names the owner in the error if it fails."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            pass
        # Raised outside the `except` so that no cryptography traceback rides along.
        raise SecretsUnreadable(what)

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"
