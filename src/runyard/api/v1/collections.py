"""Hex's collection endpoints, and projects joining or leaving collections."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from runyard.api import collection_wire, wire
from runyard.api.deps import ActorDep, ServicesDep
from runyard.api.v1.projects import full_project
from runyard.domain.permissions import Action
from runyard.services.collections import CollectionEdit, CollectionView, SharingChange

router = APIRouter(tags=["collections"])


def collection_out(view: CollectionView) -> collection_wire.Collection:
    row = view.row
    creator = (
        collection_wire.Creator(email=view.creator_email, id=row.creator_id)
        if view.creator_email is not None and row.creator_id is not None
        else None
    )
    return collection_wire.Collection(
        id=row.id,
        name=row.name,
        description=row.description,
        creator=creator,
        sharing=collection_wire.CollectionSharing(
            users=[collection_wire.SharingEntry(id=i, access=a) for i, a in view.grants.users],
            groups=[collection_wire.SharingEntry(id=i, access=a) for i, a in view.grants.groups],
            workspace=collection_wire.WorkspaceSharing(members=view.workspace_access.value),
        ),
    )


def sharing_change(body: collection_wire.CollectionSharingIn) -> SharingChange:
    return SharingChange(
        users=[(str(entry.id), entry.access) for entry in body.users],
        groups=[(str(entry.id), entry.access) for entry in body.groups],
        workspace=body.workspace.members if body.workspace else None,
    )


@router.get(
    "/collections",
    response_model=collection_wire.CollectionList,
    summary="ListCollections",
)
def list_collections(
    actor: ActorDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    after: str | None = None,
    before: str | None = None,
    sortBy: Literal["NAME"] = "NAME",  # Hex's only sort of collections
) -> collection_wire.CollectionList:
    page = services.collections.list(actor, after=after, before=before, limit=limit)
    return collection_wire.CollectionList(
        values=[collection_out(view) for view in page.values],
        pagination=wire.Pagination(after=page.after, before=page.before),
    )


@router.post(
    "/collections",
    status_code=201,
    response_model=collection_wire.Collection,
    summary="CreateCollection",
)
def create_collection(
    body: collection_wire.CreateCollectionBody, actor: ActorDep, services: ServicesDep
) -> collection_wire.Collection:
    sharing = sharing_change(body.sharing) if body.sharing else None
    return collection_out(services.collections.create(actor, body.name, body.description, sharing))


@router.get(
    "/collections/{collectionId}",
    response_model=collection_wire.Collection,
    summary="GetCollection",
)
def get_collection(
    collectionId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> collection_wire.Collection:
    return collection_out(services.collections.get(actor, str(collectionId)))


@router.patch(
    "/collections/{collectionId}",
    response_model=collection_wire.Collection,
    summary="EditCollection",
)
def edit_collection(
    collectionId: uuid.UUID,
    body: collection_wire.EditCollectionBody,
    actor: ActorDep,
    services: ServicesDep,
) -> collection_wire.Collection:
    edit = CollectionEdit(
        name=body.name,
        description=body.description,
        set_description="description" in body.model_fields_set,
        sharing=sharing_change(body.sharing.upsert) if body.sharing else None,
    )
    return collection_out(services.collections.edit(actor, str(collectionId), edit))


@router.patch(
    "/projects/{projectId}/sharing/collections",
    response_model=collection_wire.ProjectCollectionsResult,
    summary="EditProjectSharingCollections",
)
def edit_project_collections(
    projectId: uuid.UUID,
    body: collection_wire.EditProjectCollectionsBody,
    actor: ActorDep,
    services: ServicesDep,
) -> collection_wire.ProjectCollectionsResult:
    entries = [
        (str(entry.collection.id), entry.access) for entry in body.sharing.upsert.collections
    ]
    unknown = services.collections.share_project(actor, str(projectId), entries)
    project = full_project(services, actor, str(projectId), False, Action.SHARE_PROJECTS)
    errors = (
        [
            collection_wire.CollectionSharingError(
                collectionIds=unknown, reason="Collection not found"
            )
        ]
        if unknown
        else None
    )
    return collection_wire.ProjectCollectionsResult(project=project, errors=errors)
