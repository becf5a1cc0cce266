"""Hex's group endpoints, also served under the seed document's `/workspace/groups`, plus
Runyard's member listing."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from runyard.api import group_wire, wire
from runyard.api.deps import ActorDep, ServicesDep
from runyard.api.openapi import errors
from runyard.store.groups import GroupRow

router = APIRouter(tags=["groups"])

# Each path is served twice: Hex's `/groups` and the seed document's `/workspace/groups`.
_PREFIXES = ("/groups", "/workspace/groups")


def group_out(row: GroupRow) -> group_wire.Group:
    return group_wire.Group(
        id=row.id, name=row.name, createdAt=wire.format_ts(row.created_at) or ""
    )


def list_groups(
    actor: ActorDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 25,
    after: str | None = None,
    before: str | None = None,
    sortBy: Literal["CREATED_AT", "NAME"] = "CREATED_AT",
    sortDirection: Literal["DESC", "ASC"] | None = None,
) -> group_wire.GroupList:
    # Hex does not say; newest first by creation date, A to Z by name.
    direction = sortDirection or ("ASC" if sortBy == "NAME" else "DESC")
    page = services.groups.list(
        actor,
        sort_by=sortBy,
        descending=direction == "DESC",
        after=after,
        before=before,
        limit=limit,
    )
    return group_wire.GroupList(
        values=[group_out(row) for row in page.values],
        pagination=wire.Pagination(after=page.after, before=page.before),
    )


def get_group(groupId: uuid.UUID, actor: ActorDep, services: ServicesDep) -> group_wire.Group:
    return group_out(services.groups.get(actor, str(groupId)))


def create_group(
    body: group_wire.CreateGroupBody, actor: ActorDep, services: ServicesDep
) -> group_wire.CreatedGroup:
    members = [str(user.id) for user in body.members.users] if body.members else []
    created = services.groups.create(actor, body.name, members)
    return group_wire.CreatedGroup(
        id=created.row.id,
        name=created.row.name,
        members=group_wire.GroupMembersOut(
            users=[group_wire.IdRef(id=i) for i in created.member_ids]
        ),
    )


def edit_group(
    groupId: uuid.UUID, body: group_wire.EditGroupBody, actor: ActorDep, services: ServicesDep
) -> group_wire.Group:
    add: list[str] = []
    remove: list[str] = []
    if body.members is not None:
        if body.members.add is not None:
            add += [str(user.id) for user in body.members.add.users]
        if body.members.users is not None:
            add += [str(user.id) for user in body.members.users]
        if body.members.remove is not None:
            remove += [str(user.id) for user in body.members.remove.users]
    row = services.groups.edit(actor, str(groupId), name=body.name, add=add, remove=remove)
    return group_out(row)


def delete_group(groupId: uuid.UUID, actor: ActorDep, services: ServicesDep) -> Response:
    services.groups.delete(actor, str(groupId))
    return Response(status_code=204)


def list_members(
    groupId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> group_wire.GroupMemberList:
    members = services.groups.members(actor, str(groupId))
    return group_wire.GroupMemberList(
        users=[group_wire.GroupMember(id=m.id, email=m.email, name=m.name) for m in members]
    )


for _prefix in _PREFIXES:
    _alias = "" if _prefix == "/groups" else " (alias of /groups)"
    router.get(_prefix, response_model=group_wire.GroupList, summary=f"ListGroups{_alias}")(
        list_groups
    )
    router.post(
        _prefix,
        status_code=201,
        response_model=group_wire.CreatedGroup,
        summary=f"CreateGroup{_alias}",
        responses=errors(409),
    )(create_group)
    router.get(
        f"{_prefix}/{{groupId}}", response_model=group_wire.Group, summary=f"GetGroup{_alias}"
    )(get_group)
    router.patch(
        f"{_prefix}/{{groupId}}",
        response_model=group_wire.Group,
        summary=f"EditGroup{_alias}",
        responses=errors(409),
    )(edit_group)
    router.delete(
        f"{_prefix}/{{groupId}}",
        status_code=204,
        response_class=Response,
        summary=f"DeleteGroup{_alias}",
    )(delete_group)
    router.get(
        f"{_prefix}/{{groupId}}/members",
        response_model=group_wire.GroupMemberList,
        summary=f"List a group's members (Runyard extension){_alias}",
    )(list_members)
