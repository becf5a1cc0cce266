"""Bodies and answers of Hex's project-sharing endpoints (users, groups, workspace).

`maxItems 25` per upsert list and the nesting (`{user: {id}}`, `{group: {id}}`) are Hex's.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from runyard.api.project_wire import Project
from runyard.api.wire import StrictWire, Wire
from runyard.domain.access import AccessLevel


class IdRef(StrictWire):
    id: uuid.UUID


class UserEntry(StrictWire):
    user: IdRef
    access: AccessLevel


class GroupEntry(StrictWire):
    group: IdRef
    access: AccessLevel


class UsersUpsert(StrictWire):
    users: list[UserEntry] = Field(max_length=25)


class GroupsUpsert(StrictWire):
    groups: list[GroupEntry] = Field(max_length=25)


class UsersSharing(StrictWire):
    upsert: UsersUpsert


class GroupsSharing(StrictWire):
    upsert: GroupsUpsert


class EditUsersBody(StrictWire):
    sharing: UsersSharing


class EditGroupsBody(StrictWire):
    sharing: GroupsSharing


class WorkspaceAndPublic(StrictWire):
    workspace: AccessLevel | None = None
    publicWeb: AccessLevel | None = None


class EditWorkspaceBody(StrictWire):
    sharing: WorkspaceAndPublic


def _absent(value: object) -> bool:
    return value is None


class UsersError(Wire):
    userIds: list[str]
    reason: str


class GroupsError(Wire):
    groupIds: list[str]
    reason: str


class WorkspaceError(Wire):
    type: Literal["workspace", "publicWeb"]
    reason: str


# `errors` is optional in Hex's answers: left out when every entry was applied.
class UsersResult(Wire):
    project: Project
    errors: list[UsersError] | None = Field(default=None, exclude_if=_absent)


class GroupsResult(Wire):
    project: Project
    errors: list[GroupsError] | None = Field(default=None, exclude_if=_absent)


class WorkspaceResult(Wire):
    project: Project
    errors: list[WorkspaceError] | None = Field(default=None, exclude_if=_absent)
