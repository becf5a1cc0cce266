"""Saved views of a project (Runyard extension): named input values for RunProject's viewId."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from runyard.api import view_wire, wire
from runyard.api.deps import ActorDep, ServicesDep
from runyard.api.openapi import errors
from runyard.store.views import SavedViewRow

router = APIRouter(tags=["views"])

VIEWS = "/projects/{projectId}/views"
VIEW = VIEWS + "/{viewId}"


def view_out(row: SavedViewRow) -> view_wire.SavedView:
    return view_wire.SavedView(
        id=row.id,
        projectId=row.project_id,
        name=row.name,
        inputParams=row.input_params,
        createdAt=wire.format_ts(row.created_at) or "",
        updatedAt=wire.format_ts(row.updated_at) or "",
    )


@router.get(
    VIEWS, response_model=view_wire.SavedViewList, summary="List saved views (Runyard extension)"
)
def list_views(
    projectId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> view_wire.SavedViewList:
    return view_wire.SavedViewList(
        values=[view_out(row) for row in services.views.list(actor, str(projectId))]
    )


@router.post(
    VIEWS,
    status_code=201,
    response_model=view_wire.SavedView,
    summary="Save a view: a name for a set of input values (Runyard extension)",
    responses=errors(409),
)
def create_view(
    projectId: uuid.UUID, body: view_wire.CreateViewBody, actor: ActorDep, services: ServicesDep
) -> view_wire.SavedView:
    row = services.views.create(actor, str(projectId), body.name, body.inputParams)
    return view_out(row)


@router.get(
    VIEW, response_model=view_wire.SavedView, summary="Get a saved view (Runyard extension)"
)
def get_view(
    projectId: uuid.UUID, viewId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> view_wire.SavedView:
    return view_out(services.views.get(actor, str(projectId), str(viewId)))


@router.patch(
    VIEW,
    response_model=view_wire.SavedView,
    summary="Rename a saved view (Runyard extension)",
    responses=errors(409),
)
def rename_view(
    projectId: uuid.UUID,
    viewId: uuid.UUID,
    body: view_wire.RenameViewBody,
    actor: ActorDep,
    services: ServicesDep,
) -> view_wire.SavedView:
    return view_out(services.views.rename(actor, str(projectId), str(viewId), body.name))


@router.delete(
    VIEW,
    status_code=204,
    response_class=Response,
    summary="Delete a saved view (Runyard extension)",
)
def delete_view(
    projectId: uuid.UUID, viewId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> Response:
    services.views.delete(actor, str(projectId), str(viewId))
    return Response(status_code=204)
