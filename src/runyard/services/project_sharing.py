"""Sharing a project with users, groups and the workspace (Hex's sharing endpoints).

Each change is an upsert: the entries given are set, `NONE` removes a grant, everything else
stays. As in Hex, entries that cannot be applied (an unknown user, a deleted group) are
reported back and skipped rather than failing the whole request; everything that can be
applied is, in one transaction, with one audit record. Sharing needs full access to the
project (its owner, an admin, or someone granted `FULL_ACCESS`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from runyard.domain.access import AccessLevel
from runyard.domain.permissions import Action, Actor
from runyard.services.audit import AuditLog
from runyard.services.project_access import checked_project
from runyard.services.projects import require
from runyard.store import groups as groups_store
from runyard.store import identity as identity_store
from runyard.store import project_sharing as store
from runyard.store.db import Database
from runyard.store.project_sharing import ProjectGrants

# Runyard serves no anonymous pages, so a project cannot be opened to the public web.
PUBLIC_WEB_REFUSED = "Runyard does not publish projects to the public web"


@dataclass(frozen=True)
class ProjectSharing:
    grants: ProjectGrants
    workspace: AccessLevel


@dataclass(frozen=True)
class Refused:
    """Entries of a sharing change that were skipped, and why."""

    ids: list[str]
    reason: str


class ProjectSharingService:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    def sharing(
        self, actor: Actor, project_id: str, for_action: Action = Action.READ_PROJECTS
    ) -> ProjectSharing:
        """Who the project is shared with; anyone who can see the project may ask
        (`for_action`: see ProjectService.get)."""
        require(actor, for_action)
        with self._db.read() as session:
            row, _ = checked_project(session, actor, project_id, for_action)
            return ProjectSharing(
                grants=store.grants(session, project_id),
                workspace=AccessLevel(row.workspace_access or AccessLevel.NONE),
            )

    def share_with_users(
        self, actor: Actor, project_id: str, entries: Sequence[tuple[str, AccessLevel]]
    ) -> list[Refused]:
        require(actor, Action.SHARE_PROJECTS)
        wanted = dict(entries)  # a user named twice: the last entry wins
        now = self._clock()
        with self._db.write() as session:
            checked_project(session, actor, project_id, Action.SHARE_PROJECTS)
            unknown = groups_store.unknown_users(session, wanted)
            deactivated = [
                user_id
                for user_id in wanted
                if user_id not in unknown
                and wanted[user_id] is not AccessLevel.NONE
                and _is_deactivated(session, user_id)
            ]
            applied = {u: a for u, a in wanted.items() if u not in unknown and u not in deactivated}
            store.upsert_user_grants(
                session, project_id, [(u, a.value) for u, a in applied.items()]
            )
            AuditLog.record(
                session,
                actor,
                "project.share.users",
                "project",
                project_id,
                {"users": {u: a.value for u, a in applied.items()}},
                at=now,
            )
        refused = []
        if unknown:
            refused.append(Refused(unknown, "User not found"))
        if deactivated:
            refused.append(Refused(deactivated, "User is deactivated"))
        return refused

    def share_with_user_by_email(
        self, actor: Actor, project_id: str, email: str, access: AccessLevel
    ) -> list[Refused]:
        """As share_with_users, naming the user by email (as people do in a sharing form)."""
        email = email.strip()
        with self._db.read() as session:
            user = identity_store.get_user_by_email(session, email)
        if user is None:
            # Checked like a share that goes ahead: the caller learns nothing about who is a
            # user unless they may share this project.
            self.share_with_users(actor, project_id, [])
            return [Refused([email], "User not found")]
        return self.share_with_users(actor, project_id, [(user.id, access)])

    def share_with_groups(
        self, actor: Actor, project_id: str, entries: Sequence[tuple[str, AccessLevel]]
    ) -> list[Refused]:
        require(actor, Action.SHARE_PROJECTS)
        wanted = dict(entries)
        now = self._clock()
        with self._db.write() as session:
            checked_project(session, actor, project_id, Action.SHARE_PROJECTS)
            known = groups_store.existing_groups(session, wanted)
            applied = {g: a for g, a in wanted.items() if g in known}
            store.upsert_group_grants(
                session, project_id, [(g, a.value) for g, a in applied.items()]
            )
            AuditLog.record(
                session,
                actor,
                "project.share.groups",
                "project",
                project_id,
                {"groups": {g: a.value for g, a in applied.items()}},
                at=now,
            )
        unknown = [g for g in wanted if g not in known]
        return [Refused(unknown, "Group not found")] if unknown else []

    def share_with_workspace(
        self,
        actor: Actor,
        project_id: str,
        *,
        workspace: AccessLevel | None,
        public_web: AccessLevel | None,
    ) -> list[Refused]:
        """Set the workspace members' access (None leaves it as it is).

        `public_web` other than `NONE` is refused: see PUBLIC_WEB_REFUSED.
        """
        require(actor, Action.SHARE_PROJECTS)
        now = self._clock()
        with self._db.write() as session:
            row, _ = checked_project(session, actor, project_id, Action.SHARE_PROJECTS)
            if workspace is not None:
                row.workspace_access = None if workspace is AccessLevel.NONE else workspace.value
            facts: dict[str, object] = {}
            if workspace is not None:
                facts["workspace"] = workspace.value
            AuditLog.record(
                session, actor, "project.share.workspace", "project", project_id, facts, at=now
            )
        if public_web is not None and public_web is not AccessLevel.NONE:
            return [Refused(["publicWeb"], PUBLIC_WEB_REFUSED)]
        return []


def _is_deactivated(session: Session, user_id: str) -> bool:
    user = identity_store.get_user(session, user_id)
    return user is not None and user.deactivated_at is not None
