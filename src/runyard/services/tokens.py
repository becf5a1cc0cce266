"""API tokens: create (the secret is shown once), list, revoke.

Who may do what:
- A personal token (`hxtp_`) acts as its user with that user's rights. Editors and above
  create their own; an admin may also issue one for another user (how a new user gets a
  first credential on a server without a sign-up page). Personal tokens always expire, at
  most `max_personal_days` after creation.
- A workspace token (`hxtw_`) carries scopes and may never expire. Only admins create them,
  and a workspace token creating one cannot grant scopes it does not hold itself.
- Everyone may list and revoke their own tokens through a personal token; admins (with
  `users:write` on a workspace token) see and revoke all of them. A token the caller may not
  see is a 404, so its existence does not leak.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from runyard.auth import tokens
from runyard.domain.permissions import Action, Actor, Role, Scope, TokenType, is_allowed
from runyard.errors import BadRequest, Forbidden, NotFound, Unprocessable
from runyard.services import keyset
from runyard.services.audit import AuditLog
from runyard.services.projects import require
from runyard.store import identity as store
from runyard.store.db import Database
from runyard.store.identity import ApiTokenRow, UserRow

# Hex lets editors and above create personal access tokens.
_MAY_CREATE_PERSONAL_TOKENS = frozenset({Role.ADMIN, Role.MANAGER, Role.EDITOR})


@dataclass(frozen=True)
class TokenView:
    row: ApiTokenRow
    user: UserRow


@dataclass(frozen=True)
class CreatedToken:
    view: TokenView
    secret: str  # shown in this answer only; the store keeps a keyed hash


@dataclass(frozen=True)
class TokenRequest:
    """What a caller asked for. `expires_given` tells an explicit `expiresAt: null` (never
    expire) from an omitted one (the longest lifetime allowed for personal tokens)."""

    token_type: TokenType
    description: str | None = None
    scopes: Sequence[str] = ()
    expires_at: datetime | None = None
    expires_given: bool = False
    user_id: str | None = None


class TokenService:
    def __init__(
        self,
        db: Database,
        secret_key: bytes,
        clock: Callable[[], datetime],
        max_personal_days: int,
    ) -> None:
        self._db = db
        self._key = secret_key
        self._clock = clock
        self._max_personal = timedelta(days=max_personal_days)

    def create(self, actor: Actor, request: TokenRequest) -> CreatedToken:
        now = self._clock()
        scopes: list[str] = []
        expires_at: datetime | None
        if request.token_type is TokenType.PERSONAL:
            owner_id = self._personal_owner(actor, request.user_id)
            expires_at = self._personal_expiry(request, now)
        else:
            require(actor, Action.MANAGE_USERS)
            if request.user_id not in (None, actor.user_id):
                raise BadRequest("userId: workspace tokens belong to the workspace, not a user")
            owner_id = actor.user_id
            scopes = _grantable_scopes(actor, request.scopes)
            expires_at = request.expires_at
        if expires_at is not None and expires_at <= now:
            raise BadRequest("expiresAt: must be in the future")
        secret = tokens.generate(request.token_type)
        row = ApiTokenRow(
            id=str(uuid.uuid4()),
            type=request.token_type.value,
            token_hash=tokens.hash_token(secret, self._key),
            user_id=owner_id,
            description=request.description,
            scopes=scopes,
            created_at=now,
            expires_at=expires_at,
        )
        with self._db.write() as session:
            owner = store.get_user(session, owner_id)
            if owner is None:
                raise NotFound("user", owner_id)
            if owner.deactivated_at is not None:
                raise Unprocessable(f"User {owner.email} is deactivated")
            store.add(session, row)
            AuditLog.record(
                session, actor, "token.create", "token", row.id, _token_facts(row), at=now
            )
        return CreatedToken(view=TokenView(row=row, user=owner), secret=secret)

    def list(
        self,
        actor: Actor,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int = 25,
    ) -> keyset.Page[TokenView]:
        """The caller's own tokens, or every token for an admin; newest first."""
        only_user = self._visible_user(actor)
        with self._db.read() as session:

            def fetch(start: keyset.Key | None, down: bool, n: int) -> list[TokenView]:
                found = store.list_tokens(
                    session,
                    user_id=only_user,
                    after=None if start is None else (_created_at(start[0]), start[1]),
                    descending=down,
                    limit=n,
                )
                return [TokenView(row=row, user=user) for row, user in found]

            return keyset.page(
                fetch,
                lambda view: (view.row.created_at.isoformat(), view.row.id),
                descending=True,
                after=after,
                before=before,
                limit=limit,
            )

    def revoke(self, actor: Actor, token_id: str) -> None:
        """Revoke a token: it answers 401 from the next request on. Revoking twice is fine."""
        only_user = self._visible_user(actor)
        with self._db.write() as session:
            found = store.get_token(session, token_id)
            if found is None or (only_user is not None and found[0].user_id != only_user):
                raise NotFound("token", token_id)
            row = found[0]
            if row.revoked_at is None:
                row.revoked_at = self._clock()
                AuditLog.record(
                    session,
                    actor,
                    "token.revoke",
                    "token",
                    row.id,
                    _token_facts(row),
                    at=row.revoked_at,
                )

    # -- rules ---------------------------------------------------------------------------

    def _visible_user(self, actor: Actor) -> str | None:
        """Whose tokens the actor may see and revoke: None for all (admins), else its own."""
        if is_allowed(actor, Action.MANAGE_USERS):
            return None
        if actor.token_type is TokenType.WORKSPACE:
            # A workspace token without users:write has no tokens "of its own" to manage:
            # this raises Forbidden.
            require(actor, Action.MANAGE_USERS)
        return actor.user_id

    def _personal_owner(self, actor: Actor, user_id: str | None) -> str:
        owner = user_id or actor.user_id
        if owner != actor.user_id or actor.token_type is TokenType.WORKSPACE:
            # Issuing a token for someone else, or minting an unscoped token from a scoped
            # one, is administration.
            require(actor, Action.MANAGE_USERS)
        elif actor.role not in _MAY_CREATE_PERSONAL_TOKENS:
            raise Forbidden("Insufficient access: only editors and above create personal tokens")
        return owner

    def _personal_expiry(self, request: TokenRequest, now: datetime) -> datetime:
        if request.scopes:
            raise BadRequest(
                "scopes: personal tokens act with their user's rights and carry no scopes"
            )
        latest = now + self._max_personal
        if request.expires_at is None:
            if request.expires_given:
                raise BadRequest("expiresAt: personal tokens must expire")
            return latest
        if request.expires_at > latest:
            raise BadRequest(
                f"expiresAt: personal tokens may live at most {self._max_personal.days} days"
            )
        return request.expires_at


def _grantable_scopes(actor: Actor, names: Sequence[str]) -> list[str]:
    known = {scope.value for scope in Scope}
    unknown = [name for name in names if name not in known]
    if unknown:
        issues = [f"scopes: unknown scope {name!r}" for name in unknown]
        raise BadRequest(f"Unknown scope: {', '.join(unknown)}", issues=issues)
    wanted = sorted(set(names))
    if actor.token_type is TokenType.WORKSPACE:
        held = {scope.value for scope in actor.scopes}
        beyond = [name for name in wanted if name not in held]
        if beyond:
            raise Forbidden(
                "Insufficient access: a workspace token cannot grant scopes it does not "
                f"hold: {', '.join(beyond)}"
            )
    return wanted


def _token_facts(row: ApiTokenRow) -> dict[str, Any]:
    """What the audit log may say about a token: never its secret nor its hash."""
    return {
        "type": row.type,
        "userId": row.user_id,
        "scopes": list(row.scopes),
        "expiresAt": row.expires_at.isoformat() if row.expires_at else None,
    }


def _created_at(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise BadRequest("Invalid pagination cursor") from error
    if moment.tzinfo is None:
        raise BadRequest("Invalid pagination cursor")
    return moment
