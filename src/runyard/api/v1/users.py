"""Hex's user endpoints (ListUsers, Me, DeactivateUser), plus Runyard's create, update and
reactivate. `/workspace/users` is the seed document's name for `/users`: same handler."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import MISSING

from runyard.api import user_wire, wire
from runyard.api.deps import ActorDep, ServicesDep, merged_list
from runyard.api.openapi import ANY_TOKEN, errors
from runyard.errors import BadRequest
from runyard.services.users import Me
from runyard.store.identity import UserRow

router = APIRouter(tags=["users"])


def user_out(row: UserRow) -> user_wire.User:
    return user_wire.User(
        id=row.id,
        name=row.name,
        email=row.email,
        role=row.role,
        lastLoginDate=wire.format_ts(row.last_login_at),
        deactivatedAt=wire.format_ts(row.deactivated_at),
    )


def me_out(me: Me) -> user_wire.MePersonal | user_wire.MeWorkspace:
    expiry = user_wire.TokenExpiry(
        exp=int(me.token_expires_at.timestamp()) if me.token_expires_at else None
    )
    org = user_wire.OrgRef(id=me.workspace_id)
    if me.user is None:
        return user_wire.MeWorkspace(org=org, token=expiry)
    user = me.user
    return user_wire.MePersonal(
        id=user.id,
        name=user.name,
        email=user.email,
        role=user.role,
        lastLoginDate=wire.format_ts(user.last_login_at),
        org=org,
        token=expiry,
    )


def _uuids(field: str, values: list[str]) -> list[str]:
    bad = [value for value in values if not _is_uuid(value)]
    if bad:
        raise BadRequest(
            "Invalid input data", issues=[f"{field}: {value!r} is not a UUID" for value in bad]
        )
    return [str(uuid.UUID(value)) for value in values]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@router.get("/users", response_model=user_wire.UserList, summary="ListUsers", responses=errors(404))
@router.get(
    "/workspace/users",
    response_model=user_wire.UserList,
    summary="ListUsers (the seed document's path, an alias of /users)",
    responses=errors(404),
)
def list_users(
    actor: ActorDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 25,
    after: str | None = None,
    before: str | None = None,
    sortBy: Literal["NAME", "EMAIL"] = "NAME",
    sortDirection: Literal["ASC", "DESC"] = "ASC",
    groupId: uuid.UUID | None = None,
    userIds: Annotated[list[str] | None, Query()] = None,
    userIds_brackets: Annotated[
        list[str] | None, Query(alias="userIds[]", include_in_schema=False)
    ] = None,
    includeDeactivated: bool = False,
) -> user_wire.UserList:
    ids = merged_list(userIds, userIds_brackets)
    page = services.users.list(
        actor,
        user_ids=_uuids("userIds", ids) if ids else None,
        group_id=str(groupId) if groupId else None,
        include_deactivated=includeDeactivated,
        sort_by=sortBy,
        descending=sortDirection == "DESC",
        after=after,
        before=before,
        limit=limit,
    )
    return user_wire.UserList(
        values=[user_out(row) for row in page.values],
        pagination=wire.Pagination(after=page.after, before=page.before),
    )


@router.get(
    "/users/me",
    response_model=user_wire.MePersonal | user_wire.MeWorkspace,
    summary="Me",
    openapi_extra=ANY_TOKEN,
)
def me(actor: ActorDep, services: ServicesDep) -> user_wire.MePersonal | user_wire.MeWorkspace:
    return me_out(services.users.me(actor))


@router.post(
    "/users",
    status_code=201,
    response_model=user_wire.User,
    summary="Create a user (Runyard extension)",
    responses=errors(409),
)
def create_user(
    body: user_wire.CreateUserBody, actor: ActorDep, services: ServicesDep
) -> user_wire.User:
    return user_out(services.users.create(actor, body.email, body.name, body.role))


@router.patch(
    "/users/{userId}",
    response_model=user_wire.User,
    summary="Rename a user or change their role (Runyard extension)",
    responses=errors(422),
)
def update_user(
    userId: uuid.UUID, body: user_wire.UpdateUserBody, actor: ActorDep, services: ServicesDep
) -> user_wire.User:
    changes: dict[str, Any] = {}
    if "name" in body.model_fields_set:
        changes["name"] = body.name
    if body.role is not MISSING:
        changes["role"] = body.role
    return user_out(services.users.update(actor, str(userId), changes))


@router.post(
    "/users/{userId}/deactivate",
    response_model=user_wire.UserEnvelope,
    summary="DeactivateUser",
    responses=errors(422),
)
def deactivate_user(
    userId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> user_wire.UserEnvelope:
    return user_wire.UserEnvelope(user=user_out(services.users.deactivate(actor, str(userId))))


@router.post(
    "/users/{userId}/reactivate",
    response_model=user_wire.UserEnvelope,
    summary="Reactivate a user (Runyard extension)",
)
def reactivate_user(
    userId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> user_wire.UserEnvelope:
    return user_wire.UserEnvelope(user=user_out(services.users.reactivate(actor, str(userId))))
