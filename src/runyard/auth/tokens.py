"""API token secrets: generation and hashing.

Hashes are HMAC-SHA256 keyed with the server's secret key. Tokens carry 256 bits of entropy,
so a slow hash adds nothing against guessing, and a fast keyed hash keeps every request cheap
(a lookup by hash on a unique index); the key means a copy of the database alone is not
enough to test candidate tokens offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from runyard.domain.permissions import TokenType

PREFIXES = {TokenType.PERSONAL: "hxtp_", TokenType.WORKSPACE: "hxtw_"}


def generate(token_type: TokenType) -> str:
    return PREFIXES[token_type] + secrets.token_urlsafe(32)


def token_type_of(token: str) -> TokenType | None:
    for token_type, prefix in PREFIXES.items():
        if token.startswith(prefix):
            return token_type
    return None


def hash_token(token: str, key: bytes) -> str:
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
