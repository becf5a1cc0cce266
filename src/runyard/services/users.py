"""Users of the workspace: list, who am I, create, change, deactivate and reactivate.

A deactivated user's tokens stop working at once because authentication reads the user's
state on every request (`IdentityService.authenticate`); nothing here has to chase tokens.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from runyard.domain.permissions import Action, Actor, Role, TokenType
from runyard.errors import Conflict, NotFound, Unprocessable
from runyard.services import keyset
from runyard.services.audit import AuditLog
from runyard.services.projects import require
from runyard.store import groups as groups_store
from runyard.store import identity as store
from runyard.store.db import Database
from runyard.store.identity import UserFilter, UserRow


@dataclass(frozen=True)
class Me:
    """Who a token speaks for: its user (None for a workspace token), the workspace, and
    when the token expires."""

    user: UserRow | None
    workspace_id: str
    token_expires_at: datetime | None


class UserService:
    def __init__(self, db: Database, clock: Callable[[], datetime], workspace_id: str) -> None:
        self._db = db
        self._clock = clock
        self._workspace_id = workspace_id

    # -- reads ---------------------------------------------------------------------------

    def list(
        self,
        actor: Actor,
        *,
        user_ids: Sequence[str] | None = None,
        group_id: str | None = None,
        include_deactivated: bool = False,
        sort_by: str = "NAME",
        descending: bool = False,
        after: str | None = None,
        before: str | None = None,
        limit: int = 25,
    ) -> keyset.Page[UserRow]:
        require(actor, Action.READ_USERS)
        with self._db.read() as session:
            if group_id is not None:
                if groups_store.get_group(session, group_id) is None:
                    raise NotFound("group", group_id)
                members = groups_store.member_ids(session, group_id)
                user_ids = members if user_ids is None else sorted(set(members) & set(user_ids))
            flt = UserFilter(user_ids=user_ids, include_deactivated=include_deactivated)

            def fetch(start: keyset.Key | None, down: bool, n: int) -> list[tuple[UserRow, str]]:
                return store.list_users(
                    session, flt, sort_by=sort_by, descending=down, after=start, limit=n
                )

            found = keyset.page(
                fetch,
                lambda pair: (pair[1], pair[0].id),
                descending=descending,
                after=after,
                before=before,
                limit=limit,
            )
        return keyset.Page(
            values=[row for row, _key in found.values], after=found.after, before=found.before
        )

    def me(self, actor: Actor) -> Me:
        """Any valid token may ask who it is: there is nothing here it does not already hold."""
        with self._db.read() as session:
            user = store.get_user(session, actor.user_id)
            found = store.get_token(session, actor.token_id) if actor.token_id else None
        expires_at = found[0].expires_at if found else None
        personal = actor.token_type is TokenType.PERSONAL
        return Me(
            user=user if personal else None,
            workspace_id=self._workspace_id,
            token_expires_at=expires_at,
        )

    # -- writes --------------------------------------------------------------------------

    def create(self, actor: Actor, email: str, name: str | None, role: Role) -> UserRow:
        require(actor, Action.MANAGE_USERS)
        email = email.strip().lower()
        row = UserRow(
            id=str(uuid.uuid4()),
            email=email,
            name=name,
            role=role.value,
            created_at=self._clock(),
        )
        with self._db.write() as session:
            if store.email_taken(session, email):
                raise Conflict(f"A user with email {email} already exists")
            store.add_user(session, row)
            AuditLog.record(
                session, actor, "user.create", "user", row.id, {"role": row.role}, at=row.created_at
            )
        return row

    def update(self, actor: Actor, user_id: str, changes: Mapping[str, Any]) -> UserRow:
        """Change `name` and/or `role` (the keys present in `changes`)."""
        require(actor, Action.MANAGE_USERS)
        with self._db.write() as session:
            row = store.get_user(session, user_id)
            if row is None:
                raise NotFound("user", user_id)
            changed: list[str] = []
            if "role" in changes and Role(changes["role"]).value != row.role:
                role = Role(changes["role"])
                if row.role == Role.ADMIN.value:
                    self._keep_an_admin(session, row, "demote")
                row.role = role.value
                changed.append("role")
            if "name" in changes and changes["name"] != row.name:
                row.name = changes["name"]
                changed.append("name")
            # Setting a field to the value it has is no event for the audit log.
            if changed:
                details: dict[str, Any] = {"fields": sorted(changed)}
                if "role" in changed:
                    details["role"] = row.role
                AuditLog.record(
                    session, actor, "user.update", "user", row.id, details, at=self._clock()
                )
        return row

    def deactivate(self, actor: Actor, user_id: str) -> UserRow:
        """Deactivate a user; deactivating one that already is changes nothing."""
        require(actor, Action.MANAGE_USERS)
        if user_id == actor.user_id:
            raise Unprocessable("You cannot deactivate yourself; ask another admin")
        with self._db.write() as session:
            row = store.get_user(session, user_id)
            if row is None:
                raise NotFound("user", user_id)
            if row.deactivated_at is None:
                if row.role == Role.ADMIN.value:
                    self._keep_an_admin(session, row, "deactivate")
                row.deactivated_at = self._clock()
                AuditLog.record(
                    session, actor, "user.deactivate", "user", row.id, at=row.deactivated_at
                )
        return row

    def reactivate(self, actor: Actor, user_id: str) -> UserRow:
        """Reactivate a user: their tokens that are neither revoked nor expired work again."""
        require(actor, Action.MANAGE_USERS)
        with self._db.write() as session:
            row = store.get_user(session, user_id)
            if row is None:
                raise NotFound("user", user_id)
            if row.deactivated_at is not None:
                row.deactivated_at = None
                AuditLog.record(session, actor, "user.reactivate", "user", row.id, at=self._clock())
        return row

    @staticmethod
    def _keep_an_admin(session: Session, row: UserRow, verb: str) -> None:
        if row.deactivated_at is not None:
            return
        if store.lock_active_admins(session) == [row.id]:
            raise Unprocessable(
                f"Cannot {verb} {row.email}: they are the last active admin of the workspace"
            )
