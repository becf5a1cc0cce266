"""Runyard's API-token endpoints (an extension): create, list and revoke tokens. The secret
is in the answer that creates a token, and in no other."""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, Field

from runyard.api.wire import Pagination, StrictWire, Wire
from runyard.domain.permissions import TokenType


class CreateTokenBody(StrictWire):
    type: TokenType
    description: str | None = Field(default=None, max_length=500)
    scopes: list[str] = Field(default_factory=list, max_length=64)
    # Omitted: the longest lifetime allowed for a personal token, never for a workspace one.
    expiresAt: AwareDatetime | None = None
    # Runyard extension: an admin issues a personal token for another user.
    userId: uuid.UUID | None = None


class TokenUser(Wire):
    id: str
    email: str


class TokenOut(Wire):
    id: str
    type: str
    description: str | None
    scopes: list[str]
    expiresAt: str | None
    createdAt: str
    lastUsedAt: str | None = None
    revokedAt: str | None = None
    user: TokenUser


class CreatedTokenOut(TokenOut):
    token: str  # the secret: shown in this answer and never again


class TokenList(Wire):
    values: list[TokenOut]
    pagination: Pagination
