"""Collections: list, read, create and edit with sharing; projects join and leave them.

Who sees a collection: admins and managers see every one; anyone else sees those they
created and those shared with them, with one of their groups, or (for members, not guests)
with the whole workspace. A collection the actor may not see answers 404, like an unknown one,
so that its existence does not leak. Creating and editing collections is for managers and
admins (`Action.MANAGE_COLLECTIONS`).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from runyard.domain.access import AccessLevel
from runyard.domain.permissions import (
    Action,
    Actor,
    is_workspace_member,
    sees_every_collection,
)
from runyard.errors import BadRequest, NotFound
from runyard.services import keyset
from runyard.services.audit import AuditLog
from runyard.services.project_access import checked_project
from runyard.services.projects import require
from runyard.store import collections as store
from runyard.store import groups as groups_store
from runyard.store import identity as identity_store
from runyard.store.collections import CollectionRow, Grants, Viewer
from runyard.store.db import Database


@dataclass(frozen=True)
class SharingChange:
    """Grants to set; `NONE` removes one. `workspace` None leaves the workspace grant alone."""

    users: list[tuple[str, AccessLevel]] = field(default_factory=list)
    groups: list[tuple[str, AccessLevel]] = field(default_factory=list)
    workspace: AccessLevel | None = None


@dataclass(frozen=True)
class CollectionEdit:
    name: str | None = None
    description: str | None = None
    set_description: bool = False  # True to set `description`, even to None (clears it)
    sharing: SharingChange | None = None


@dataclass(frozen=True)
class CollectionView:
    row: CollectionRow
    creator_email: str | None
    grants: Grants

    @property
    def workspace_access(self) -> AccessLevel:
        return AccessLevel(self.row.workspace_access or AccessLevel.NONE)


class CollectionService:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    # -- reads ---------------------------------------------------------------------------

    def list(
        self,
        actor: Actor,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int = 25,
    ) -> keyset.Page[CollectionView]:
        """Collections by name (Hex sorts them by NAME only, ascending)."""
        require(actor, Action.READ_COLLECTIONS)
        viewer = _viewer(actor)
        with self._db.read() as session:

            def fetch(start: keyset.Key | None, desc: bool, n: int) -> list[CollectionRow]:
                return store.list_collections(
                    session, viewer, descending=desc, after=start, limit=n
                )

            rows = keyset.page(
                fetch,
                lambda row: (row.name.lower(), row.id),
                descending=False,
                after=after,
                before=before,
                limit=limit,
            )
            views = [_view(session, row) for row in rows.values]
        return keyset.Page(values=views, after=rows.after, before=rows.before)

    def get(self, actor: Actor, collection_id: str) -> CollectionView:
        require(actor, Action.READ_COLLECTIONS)
        with self._db.read() as session:
            return _view(session, _visible(session, actor, collection_id))

    def project_ids(self, actor: Actor, collection_id: str) -> builtins.list[str]:
        """The projects in a collection the actor may see (for `?collectionId=`)."""
        require(actor, Action.READ_COLLECTIONS)
        with self._db.read() as session:
            _visible(session, actor, collection_id)
            return store.project_ids(session, collection_id)

    # -- writes --------------------------------------------------------------------------

    def create(
        self,
        actor: Actor,
        name: str,
        description: str | None = None,
        sharing: SharingChange | None = None,
    ) -> CollectionView:
        require(actor, Action.MANAGE_COLLECTIONS)
        name = _clean_name(name)
        with self._db.write() as session:
            row = CollectionRow(
                id=str(uuid.uuid4()),
                name=name,
                description=description,
                creator_id=actor.user_id,
                created_at=self._clock(),
            )
            session.add(row)
            session.flush()
            if sharing is not None:
                _apply_sharing(session, row, sharing)
            AuditLog.record(
                session,
                actor,
                "collection.create",
                "collection",
                row.id,
                {"name": name, **_sharing_facts(sharing)},
                at=row.created_at,
            )
            return _view(session, row)

    def edit(self, actor: Actor, collection_id: str, edit: CollectionEdit) -> CollectionView:
        """Apply the given fields and sharing upserts; all or nothing."""
        require(actor, Action.MANAGE_COLLECTIONS)
        with self._db.write() as session:
            row = _visible(session, actor, collection_id)
            if edit.name is not None:
                row.name = _clean_name(edit.name)
            if edit.set_description:
                row.description = edit.description
            if edit.sharing is not None:
                _apply_sharing(session, row, edit.sharing)
            session.flush()
            fields = [
                f
                for f, given in (
                    ("name", edit.name is not None),
                    ("description", edit.set_description),
                )
                if given
            ]
            AuditLog.record(
                session,
                actor,
                "collection.update",
                "collection",
                row.id,
                {"fields": fields, **_sharing_facts(edit.sharing)},
                at=self._clock(),
            )
            return _view(session, row)

    def share_project(
        self, actor: Actor, project_id: str, entries: Sequence[tuple[str, AccessLevel]]
    ) -> builtins.list[str]:
        """Put a project in collections (or take it out, with `NONE`); return the ids of the
        collections that do not exist, which are skipped rather than failing the rest."""
        require(actor, Action.MANAGE_COLLECTIONS)
        require(actor, Action.SHARE_PROJECTS)
        now = self._clock()
        with self._db.write() as session:
            checked_project(session, actor, project_id, Action.SHARE_PROJECTS)
            wanted = dict(entries)  # a collection named twice: the last entry wins
            known = {c for c in wanted if store.is_visible(session, c, _viewer(actor))}
            for collection_id, access in wanted.items():
                if collection_id in known:
                    store.put_project(session, collection_id, project_id, access.value, now)
            AuditLog.record(
                session,
                actor,
                "project.share.collections",
                "project",
                project_id,
                {"collections": {c: wanted[c].value for c in sorted(known)}},
                at=now,
            )
            return [c for c in wanted if c not in known]


def _sharing_facts(sharing: SharingChange | None) -> dict[str, object]:
    """The grants a sharing change sets, for the audit log."""
    if sharing is None:
        return {}
    grants: dict[str, object] = {
        "users": {user_id: access.value for user_id, access in sharing.users},
        "groups": {group_id: access.value for group_id, access in sharing.groups},
    }
    if sharing.workspace is not None:
        grants["workspace"] = sharing.workspace.value
    return {"sharing": grants}


def _viewer(actor: Actor) -> Viewer | None:
    if sees_every_collection(actor.role):
        return None
    return Viewer(user_id=actor.user_id, workspace_member=is_workspace_member(actor.role))


def _visible(session: Session, actor: Actor, collection_id: str) -> CollectionRow:
    row = store.get_collection(session, collection_id)
    if row is None or not store.is_visible(session, collection_id, _viewer(actor)):
        raise NotFound("collection", collection_id)
    return row


def _view(session: Session, row: CollectionRow) -> CollectionView:
    creator = identity_store.get_user(session, row.creator_id) if row.creator_id else None
    return CollectionView(
        row=row,
        creator_email=creator.email if creator else None,
        grants=store.grants(session, row.id),
    )


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise BadRequest("name: must not be empty", issues=["name: must not be empty"])
    return cleaned


def _apply_sharing(session: Session, row: CollectionRow, sharing: SharingChange) -> None:
    """Check every id first, so that one unknown id changes nothing; then upsert."""
    issues = [
        f"sharing.users: no user with id {user_id}"
        for user_id in groups_store.unknown_users(session, [u for u, _ in sharing.users])
    ]
    group_ids = [g for g, _ in sharing.groups]
    known_groups = groups_store.existing_groups(session, group_ids)
    issues += [
        f"sharing.groups: no group with id {group_id}"
        for group_id in dict.fromkeys(group_ids)
        if group_id not in known_groups
    ]
    if issues:
        raise BadRequest("Unknown users or groups in sharing", issues=issues)
    store.upsert_user_grants(session, row.id, [(u, a.value) for u, a in sharing.users])
    store.upsert_group_grants(session, row.id, [(g, a.value) for g, a in sharing.groups])
    if sharing.workspace is not None:
        none = sharing.workspace is AccessLevel.NONE
        row.workspace_access = None if none else sharing.workspace.value
