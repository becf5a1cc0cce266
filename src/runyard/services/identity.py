"""Authentication and the first start: tokens in, actors out."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from runyard.auth import tokens
from runyard.domain.permissions import ALL_SCOPES, Actor, Role, Scope, TokenType
from runyard.errors import Unauthenticated
from runyard.store import identity as store
from runyard.store.db import Database
from runyard.store.identity import ApiTokenRow, IdentityChanges, UserRow

# Recording every request's use would make each read a write; once a minute per token is
# precise enough for "last used" and "last login" and cheap on SQLite's single writer.
TOUCH_INTERVAL = timedelta(minutes=1)

# More distinct tokens than this in one cache lifetime is not a workload, it is a scan: the
# cache starts over rather than grow without bound.
MAX_CACHED_TOKENS = 10_000


@dataclass(frozen=True)
class _Verified:
    """A token the store said was valid, and what a later use must still check."""

    actor: Actor
    expires_at: datetime | None
    used_at: datetime  # its last use as recorded in the store
    read_at: float  # time.monotonic() when the store said so
    generation: int  # IdentityChanges.generation before the store was read


@dataclass(frozen=True)
class Bootstrap:
    admin_email: str
    token: str | None  # the new secret, when this start created it and must show it once


class IdentityService:
    """Tokens in, actors out.

    A verified token is remembered for `cache_seconds` (RUNYARD_TOKEN_CACHE_SECONDS), so
    that most requests are authenticated without reading the store. What may end a token's
    validity is checked again on each use or ends the memory at once:
    - its expiry is compared with the clock on every use;
    - any revocation, deactivation or change of role, email or scopes committed through
      this process (API, web UI) ends every remembered verification at once
      (`store.identity.IdentityChanges`);
    - one made by another process sharing the store (another API replica) is seen here
      within `cache_seconds`, when the store is read again;
    - a use that is due to be recorded (last used, last login: once a minute per token)
      reads the store again and records it, as without the cache.
    `cache_seconds=0` reads the store on every request.
    """

    def __init__(
        self,
        db: Database,
        secret_key: bytes,
        clock: Callable[[], datetime],
        cache_seconds: float = 0.0,
    ) -> None:
        self._db = db
        self._key = secret_key
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._changes = IdentityChanges(db.sessions)
        self._verified: dict[str, _Verified] = {}

    def remembered(self, authorization: str | None) -> Actor | None:
        """The actor of a token verified within the cache's lifetime and still valid, without
        reading the store (cheap enough for the event loop); None when `authenticate` must
        decide: unknown, refused, stale, or due to record its use."""
        if not self._cache_seconds or not authorization:
            return None
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        digest = tokens.hash_token(secret.strip(), self._key)
        entry = self._verified.get(digest)
        if entry is None:
            return None
        if (
            entry.generation != self._changes.generation
            or time.monotonic() - entry.read_at >= self._cache_seconds
        ):
            self._verified.pop(digest, None)
            return None
        now = self._clock()
        if entry.expires_at is not None and entry.expires_at <= now:
            return None
        if entry.used_at < now - TOUCH_INTERVAL:
            return None
        return entry.actor

    def authenticate(self, authorization: str | None) -> Actor:
        """Resolve an `Authorization: Bearer …` header to an actor, or raise Unauthenticated.

        Reads the store (and records the token's use when due), and remembers the answer
        for `remembered`."""
        if not authorization:
            raise Unauthenticated("Authorization not provided")
        scheme, _, secret = authorization.partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            raise Unauthenticated("Authorization must be 'Bearer <token>'")
        token_type = tokens.token_type_of(secret)
        if token_type is None:
            raise Unauthenticated("Invalid token")
        digest = tokens.hash_token(secret, self._key)
        # Noted before the read: a change committed while we read makes the memory stale.
        generation = self._changes.generation
        read_at = time.monotonic()
        now = self._clock()
        with self._db.read() as session:
            found = store.token_by_hash(session, digest)
        if found is None or not tokens.same_hash(found[0].token_hash, digest):
            raise Unauthenticated("Invalid token")
        token, user = found
        actor = _actor_of(token, user, now)
        used_at = token.last_used_at
        if used_at is None or used_at < now - TOUCH_INTERVAL:
            # Recorded by this call or, if the compare-and-set lost, by a concurrent one.
            self._touch(token, now)
            used_at = now
        if self._cache_seconds:
            if len(self._verified) >= MAX_CACHED_TOKENS:
                self._verified.clear()
            self._verified[digest] = _Verified(
                actor, token.expires_at, used_at, read_at, generation
            )
        return actor

    def actor_of_token(self, token_id: str) -> Actor:
        """The actor a token acts as now, for work done later on its behalf (an embedding
        URL's run): Unauthenticated if the token, or its user, is no longer valid."""
        with self._db.read() as session:
            found = store.get_token(session, token_id)
        if found is None:
            raise Unauthenticated("Token has been deleted")
        return _actor_of(*found, self._clock())

    def _touch(self, token: ApiTokenRow, now: datetime) -> None:
        # A personal token's use is its user's login (Hex's lastLoginDate); a workspace token
        # is automation acting for the workspace, so it leaves its creator's login alone.
        login_of = token.user_id if token.type == TokenType.PERSONAL.value else None
        with self._db.write() as session:
            store.touch_token(session, token.id, login_of, now, now - TOUCH_INTERVAL)

    def bootstrap(self, admin_email: str, configured_token: str | None) -> Bootstrap:
        """On an empty workspace, create the first admin and a workspace token with every scope.

        Idempotent: a workspace that has users is left alone, except that a configured
        bootstrap token that is not yet known is added for the first admin (automation that
        sets RUNYARD_BOOTSTRAP_TOKEN after a first start still gets in).
        """
        now = self._clock()
        with self._db.write() as session:
            admin = store.get_user_by_email(session, admin_email)
            created_admin = admin is None
            if admin is None:
                if store.count_users(session) and configured_token is None:
                    return Bootstrap(admin_email=admin_email, token=None)
                admin = UserRow(
                    id=str(uuid.uuid4()),
                    email=admin_email,
                    name="Administrator",
                    role=Role.ADMIN.value,
                    created_at=now,
                )
                store.add(session, admin)
            secret = configured_token
            if secret is None and not created_admin:
                return Bootstrap(admin_email=admin_email, token=None)
            if secret is None:
                secret = tokens.generate(TokenType.WORKSPACE)
            digest = tokens.hash_token(secret, self._key)
            if store.token_by_hash(session, digest) is not None:
                return Bootstrap(admin_email=admin_email, token=None)
            store.add(
                session,
                ApiTokenRow(
                    id=str(uuid.uuid4()),
                    type=TokenType.WORKSPACE.value,
                    token_hash=digest,
                    user_id=admin.id,
                    description="Bootstrap workspace token",
                    scopes=sorted(s.value for s in ALL_SCOPES),
                    created_at=now,
                    expires_at=None,
                ),
            )
        shown = None if configured_token is not None else secret
        return Bootstrap(admin_email=admin_email, token=shown)


def _actor_of(token: ApiTokenRow, user: UserRow, now: datetime) -> Actor:
    """The actor of a valid token; Unauthenticated if it was revoked or expired, or its user
    deactivated."""
    if token.revoked_at is not None:
        raise Unauthenticated("Token has been revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthenticated("Token has expired")
    if user.deactivated_at is not None:
        raise Unauthenticated("User is deactivated")
    return Actor(
        user_id=user.id,
        email=user.email,
        role=Role(user.role),
        token_id=token.id,
        token_type=TokenType(token.type),
        scopes=frozenset(Scope(s) for s in token.scopes if s in Scope.__members__.values()),
    )
