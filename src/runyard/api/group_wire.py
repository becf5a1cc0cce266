"""Hex's group endpoints (contract §8), plus Runyard's list of a group's members."""

from __future__ import annotations

import uuid

from pydantic import Field

from runyard.api.wire import Pagination, StrictWire, Wire


class UserRef(StrictWire):
    id: uuid.UUID


class GroupMembersIn(StrictWire):
    users: list[UserRef] = Field(default_factory=list, max_length=100)


class CreateGroupBody(StrictWire):
    name: str = Field(min_length=1, max_length=255)
    members: GroupMembersIn | None = None


class EditGroupMembersIn(StrictWire):
    """`add` and `remove` as Hex's spec says; a bare `users` (what some clients send, as in
    CreateGroup) is read as `add` (contract Q10)."""

    add: GroupMembersIn | None = None
    remove: GroupMembersIn | None = None
    users: list[UserRef] | None = Field(default=None, max_length=100)


class EditGroupBody(StrictWire):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    members: EditGroupMembersIn | None = None


class Group(Wire):
    id: str
    name: str
    createdAt: str


class IdRef(Wire):
    id: str


class GroupMembersOut(Wire):
    users: list[IdRef]


class CreatedGroup(Wire):
    id: str
    name: str
    members: GroupMembersOut


class GroupList(Wire):
    values: list[Group]
    pagination: Pagination


class GroupMember(Wire):
    id: str
    email: str
    name: str | None


class GroupMemberList(Wire):
    """Runyard extension: who is in a group."""

    users: list[GroupMember]
