"""Groups: list, read, create with members, rename, add and remove members, delete.

Group names are unique in the workspace (a duplicate is a Conflict): Hex's API does not say,
and a unique name lets the CLI and sharing dialogs name a group without ambiguity.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from runyard.domain.permissions import Action, Actor
from runyard.errors import BadRequest, NotFound
from runyard.services import keyset
from runyard.services.audit import AuditLog
from runyard.services.projects import require
from runyard.store import groups as store
from runyard.store import identity as identity_store
from runyard.store.db import Database
from runyard.store.groups import GroupRow


@dataclass(frozen=True)
class Member:
    id: str
    email: str
    name: str | None


@dataclass(frozen=True)
class CreatedGroup:
    row: GroupRow
    member_ids: list[str]


class GroupService:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    # -- reads ---------------------------------------------------------------------------

    def list(
        self,
        actor: Actor,
        *,
        sort_by: str = "CREATED_AT",
        descending: bool = True,
        after: str | None = None,
        before: str | None = None,
        limit: int = 25,
    ) -> keyset.Page[GroupRow]:
        require(actor, Action.READ_GROUPS)
        if sort_by not in store.SORT_KEYS:
            raise BadRequest(f"sortBy: must be one of {', '.join(store.SORT_KEYS)}")
        with self._db.read() as session:

            def fetch(start: keyset.Key | None, desc: bool, n: int) -> list[GroupRow]:
                at = None if start is None else (_sort_value_of(sort_by, start[0]), start[1])
                return store.list_groups(
                    session, sort_by=sort_by, descending=desc, after=at, limit=n
                )

            return keyset.page(
                fetch,
                lambda row: (_cursor_value(row, sort_by), row.id),
                descending=descending,
                after=after,
                before=before,
                limit=limit,
            )

    def get(self, actor: Actor, group_id: str) -> GroupRow:
        require(actor, Action.READ_GROUPS)
        with self._db.read() as session:
            return _group(session, group_id)

    def members(self, actor: Actor, group_id: str) -> builtins.list[Member]:
        """The group's members, ordered by email."""
        require(actor, Action.READ_GROUPS)
        with self._db.read() as session:
            _group(session, group_id)
            ids = store.member_ids(session, group_id)
            users = [identity_store.get_user(session, user_id) for user_id in ids]
        found = [Member(u.id, u.email, u.name) for u in users if u is not None]
        return sorted(found, key=lambda m: m.email.lower())

    # -- writes --------------------------------------------------------------------------

    def create(self, actor: Actor, name: str, member_ids: Sequence[str] = ()) -> CreatedGroup:
        require(actor, Action.MANAGE_GROUPS)
        name = _clean_name(name)
        now = self._clock()
        with self._db.write() as session:
            _check_users(session, member_ids, "members.users")
            row = GroupRow(id=str(uuid.uuid4()), name=name, created_at=now)
            store.insert_group(session, row)
            store.add_members(session, row.id, member_ids, now)
            AuditLog.record(
                session,
                actor,
                "group.create",
                "group",
                row.id,
                {"name": name, "membersAdded": sorted(set(member_ids))},
                at=now,
            )
            return CreatedGroup(row=row, member_ids=store.member_ids(session, row.id))

    def edit(
        self,
        actor: Actor,
        group_id: str,
        *,
        name: str | None = None,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
    ) -> GroupRow:
        """Rename, then add and remove members; all or nothing."""
        require(actor, Action.MANAGE_GROUPS)
        both = sorted(set(add) & set(remove))
        if both:
            raise BadRequest(
                "A user cannot be both added to and removed from a group",
                issues=[f"members: {user_id} is in both add and remove" for user_id in both],
            )
        now = self._clock()
        with self._db.write() as session:
            row = _group(session, group_id)
            _check_users(session, add, "members.add.users")
            _check_users(session, remove, "members.remove.users")
            renamed = False
            if name is not None:
                cleaned = _clean_name(name)
                if cleaned != row.name:
                    store.rename_group(session, row, cleaned)
                    renamed = True
            added = store.add_members(session, row.id, add, now)
            removed = store.remove_members(session, row.id, remove)
            # An edit that changes nothing (its own name, present members added) is no event.
            if renamed or added or removed:
                details: dict[str, object] = {"name": row.name}
                if renamed:
                    details["fields"] = ["name"]
                if added:
                    details["membersAdded"] = sorted(added)
                if removed:
                    details["membersRemoved"] = sorted(removed)
                AuditLog.record(session, actor, "group.update", "group", row.id, details, at=now)
            return row

    def delete(self, actor: Actor, group_id: str) -> None:
        require(actor, Action.MANAGE_GROUPS)
        with self._db.write() as session:
            row = _group(session, group_id)
            name = row.name
            store.delete_group(session, group_id)
            AuditLog.record(
                session, actor, "group.delete", "group", group_id, {"name": name}, at=self._clock()
            )


def _group(session: Session, group_id: str) -> GroupRow:
    row = store.get_group(session, group_id)
    if row is None:
        raise NotFound("group", group_id)
    return row


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise BadRequest("name: must not be empty", issues=["name: must not be empty"])
    return cleaned


def _check_users(session: Session, user_ids: Sequence[str], where: str) -> None:
    unknown = store.unknown_users(session, user_ids)
    if unknown:
        raise BadRequest(
            f"Unknown user ids: {', '.join(unknown)}",
            issues=[f"{where}: no user with id {user_id}" for user_id in unknown],
        )


def _cursor_value(row: GroupRow, sort_by: str) -> str:
    if sort_by == "NAME":
        return row.name.lower()
    return row.created_at.astimezone(UTC).isoformat()


def _sort_value_of(sort_by: str, text: str) -> object:
    """The store's sort value from the text a cursor carries."""
    if sort_by == "NAME":
        return text
    try:
        return datetime.fromisoformat(text)
    except ValueError as error:
        raise BadRequest(f"Invalid pagination cursor for sortBy {sort_by}") from error
