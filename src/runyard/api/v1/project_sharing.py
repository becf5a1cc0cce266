"""Hex's per-project sharing endpoints: users, groups, and workspace and public web.

Collections have their own (`/projects/{projectId}/sharing/collections`, in collections.py).
Each answers the project with its sharing, plus the entries it skipped and why.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from runyard.api import sharing_wire as wire
from runyard.api.deps import ActorDep, ServicesDep
from runyard.api.v1.projects import full_project
from runyard.domain.permissions import Action

router = APIRouter(tags=["projects"])


@router.patch(
    "/projects/{projectId}/sharing/users",
    response_model=wire.UsersResult,
    summary="EditProjectSharingUsers",
)
def share_with_users(
    projectId: uuid.UUID, body: wire.EditUsersBody, actor: ActorDep, services: ServicesDep
) -> wire.UsersResult:
    entries = [(str(e.user.id), e.access) for e in body.sharing.upsert.users]
    refused = services.project_sharing.share_with_users(actor, str(projectId), entries)
    return wire.UsersResult(
        project=full_project(services, actor, str(projectId), True, Action.SHARE_PROJECTS),
        errors=[wire.UsersError(userIds=r.ids, reason=r.reason) for r in refused] or None,
    )


@router.patch(
    "/projects/{projectId}/sharing/groups",
    response_model=wire.GroupsResult,
    summary="EditProjectSharingGroups",
)
def share_with_groups(
    projectId: uuid.UUID, body: wire.EditGroupsBody, actor: ActorDep, services: ServicesDep
) -> wire.GroupsResult:
    entries = [(str(e.group.id), e.access) for e in body.sharing.upsert.groups]
    refused = services.project_sharing.share_with_groups(actor, str(projectId), entries)
    return wire.GroupsResult(
        project=full_project(services, actor, str(projectId), True, Action.SHARE_PROJECTS),
        errors=[wire.GroupsError(groupIds=r.ids, reason=r.reason) for r in refused] or None,
    )


@router.patch(
    "/projects/{projectId}/sharing/workspaceAndPublic",
    response_model=wire.WorkspaceResult,
    summary="EditProjectSharingWorkspaceAndPublic",
)
def share_with_workspace(
    projectId: uuid.UUID, body: wire.EditWorkspaceBody, actor: ActorDep, services: ServicesDep
) -> wire.WorkspaceResult:
    refused = services.project_sharing.share_with_workspace(
        actor,
        str(projectId),
        workspace=body.sharing.workspace,
        public_web=body.sharing.publicWeb,
    )
    return wire.WorkspaceResult(
        project=full_project(services, actor, str(projectId), True, Action.SHARE_PROJECTS),
        errors=[wire.WorkspaceError(type="publicWeb", reason=r.reason) for r in refused] or None,
    )
