"""Hex's user endpoints (contract §7): users, `GET /users/me` for either kind of token, and
Runyard's bodies to create and edit a user."""

from __future__ import annotations

from typing import Annotated

from pydantic import MISSING, AfterValidator, ConfigDict, Field

from runyard.api.wire import Pagination, StrictWire, Wire, not_blank
from runyard.domain.permissions import Role


class User(Wire):
    id: str
    name: str | None
    email: str
    role: str
    lastLoginDate: str | None
    # Runyard extension (an admin needs it to find whom to reactivate):
    deactivatedAt: str | None = None


class UserList(Wire):
    values: list[User]
    pagination: Pagination


class UserEnvelope(Wire):
    user: User


class OrgRef(Wire):
    id: str


class TokenExpiry(Wire):
    exp: int | None  # seconds since the epoch; null for a token that never expires


class MePersonal(Wire):
    """`GET /users/me` for a personal token: the user, the workspace, the token's expiry."""

    id: str
    name: str | None
    email: str
    role: str
    lastLoginDate: str | None
    org: OrgRef
    token: TokenExpiry | None


class MeWorkspace(Wire):
    """`GET /users/me` for a workspace token: no user fields, as Hex answers."""

    # Forbidding extra keys makes the response union pick MePersonal for a personal token.
    model_config = ConfigDict(extra="forbid")

    org: OrgRef
    token: TokenExpiry | None


# One @, something on each side, no spaces: enough to catch typos without refusing the
# addresses a self-hosted workspace really uses (admin@localhost, say).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"


# The user service stores a name as given, so a name of spaces alone is refused here.
UserName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(not_blank)]


class CreateUserBody(StrictWire):
    email: str = Field(min_length=3, max_length=320, pattern=EMAIL_PATTERN)
    name: UserName | None = None
    role: Role = Role.MEMBER


class UpdateUserBody(StrictWire):
    """Only the fields given change; `name: null` clears the name. A user always has a
    role: `role` may be left out, but not null."""

    name: UserName | None = None
    # MISSING, not None, when left out: the schema then says optional and not nullable.
    role: Role | MISSING = MISSING
