"""The browser session: an API token sealed in a cookie, and the CSRF tokens derived from it.

Runyard has no passwords yet, so a person signs in with an API token. The session cookie
holds that token encrypted and authenticated (Fernet: AES-CBC plus HMAC, keyed from the
server's secret key): it cannot be forged or altered, and a cookie that leaks into a proxy
log does not show the token. The token itself is re-authenticated on every request, so
revoking it ends its sessions at once; the cookie's own lifetime only bounds a stolen one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

SESSION_COOKIE = "runyard_session"
# Before sign-in there is no session to derive a CSRF token from: the sign-in form gets a
# random nonce in this cookie instead, so another site cannot sign a browser in with a token
# of its choosing (login CSRF).
SIGN_IN_COOKIE = "runyard_sign_in"
SESSION_SECONDS = 12 * 3600


class SessionKeys:
    """Seals tokens into cookies and derives CSRF tokens; one instance per secret key."""

    def __init__(self, secret_key: bytes) -> None:
        # Separate keys per purpose, so a CSRF token never doubles as anything else.
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret_key, b"session")))
        self._csrf_key = _derive(secret_key, b"csrf")

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def unseal(self, cookie: str) -> str | None:
        """The token in a session cookie, or None if it is forged, altered or too old."""
        try:
            return self._fernet.decrypt(cookie.encode(), ttl=SESSION_SECONDS).decode()
        except (InvalidToken, UnicodeError):
            return None

    def csrf_token(self, cookie: str, purpose: str = "session") -> str:
        """The CSRF token for a cookie's value: the session cookie's (new with every
        sign-in, since each sealed cookie differs), or the sign-in nonce's."""
        message = f"{purpose}\0{cookie}".encode()
        digest = hmac.new(self._csrf_key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def csrf_matches(self, cookie: str | None, submitted: object, purpose: str = "session") -> bool:
        if not cookie or not isinstance(submitted, str) or not submitted:
            return False
        return hmac.compare_digest(self.csrf_token(cookie, purpose), submitted)


def new_sign_in_nonce() -> str:
    return secrets.token_urlsafe(24)


@lru_cache(maxsize=4)
def keys_for(secret_key: bytes) -> SessionKeys:
    return SessionKeys(secret_key)


def _derive(secret_key: bytes, purpose: bytes) -> bytes:
    return hmac.new(secret_key, b"runyard web " + purpose, hashlib.sha256).digest()
