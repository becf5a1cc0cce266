"""Hex's project endpoints, plus Runyard's notebook upload, publish and import."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from runyard.api import project_wire, wire
from runyard.api.deps import ActorDep, ServicesDep, merged_list
from runyard.api.openapi import errors
from runyard.api.uploads import read_body, read_notebook_upload
from runyard.api.v1.schedules import hex_schedule
from runyard.domain.access import AccessLevel
from runyard.domain.parameters import ParameterSpec
from runyard.domain.permissions import Action, Actor
from runyard.services.container import Services
from runyard.services.project_sharing import ProjectSharing
from runyard.services.projects import ProjectView, PublishedVersion
from runyard.services.schedules import ScheduleView
from runyard.store.projects import ProjectFilter

router = APIRouter(tags=["projects"])

NOTEBOOK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "description": "A Jupyter notebook (nbformat 4)"}
            }
        },
    }
}


def parameter_out(spec: ParameterSpec) -> project_wire.ParameterOut:
    return project_wire.ParameterOut(
        name=spec.name,
        dataType=str(spec.data_type),
        inputCellType=spec.input_cell_type,
        default=spec.default,
        nullable=spec.nullable,
        annotation=spec.annotation,
    )


def sharing_out(sharing: ProjectSharing) -> project_wire.ProjectSharingOut:
    grants = sharing.grants
    return project_wire.ProjectSharingOut(
        users=[
            project_wire.UserSharing(
                user=project_wire.Email(email=email), access=AccessLevel(access)
            )
            for _, email, access in grants.users
        ],
        collections=[
            project_wire.CollectionAccessOut(
                collection=project_wire.Named(name=name), access=AccessLevel(access)
            )
            for _, name, access in grants.collections
        ],
        groups=[
            project_wire.GroupSharing(
                group=project_wire.Named(name=name), access=AccessLevel(access)
            )
            for _, name, access in grants.groups
        ],
        workspace=project_wire.Access(access=sharing.workspace),
        publicWeb=project_wire.Access(access=AccessLevel.NONE),
        support=project_wire.Access(access=AccessLevel.NONE),
    )


def project_out(
    view: ProjectView,
    schedules: list[ScheduleView] | None = None,
    sharing: ProjectSharing | None = None,
) -> project_wire.Project:
    row = view.row
    return project_wire.Project(
        id=row.id,
        title=row.title,
        description=row.description,
        type="COMPONENT" if row.type == "COMPONENT" else "PROJECT",
        creator=project_wire.Email(email=view.creator_email),
        owner=project_wire.Email(email=view.owner_email),
        status=project_wire.Named(name=row.status_label) if row.status_label else None,
        categories=[],
        reviews=project_wire.Reviews(required=False),
        analytics=project_wire.Analytics(
            publishedResultsUpdatedAt=wire.format_ts(row.published_results_updated_at)
        ),
        lastEditedAt=wire.format_ts(row.last_edited_at) or "",
        lastPublishedAt=wire.format_ts(row.last_published_at),
        createdAt=wire.format_ts(row.created_at) or "",
        archivedAt=wire.format_ts(row.archived_at),
        trashedAt=wire.format_ts(row.trashed_at),
        schedules=[hex_schedule(s) for s in schedules or []],
        latestVersion=row.latest_version,
        parameters=[parameter_out(spec) for spec in view.parameters],
        runTimeoutSeconds=row.run_timeout_seconds,
        memoryLimitMb=row.memory_limit_mb,
        sharing=sharing_out(sharing) if sharing is not None else None,
    )


def full_project(
    services: Services,
    actor: Actor,
    project_id: str,
    include_sharing: bool,
    for_action: Action = Action.READ_PROJECTS,
) -> project_wire.Project:
    """The project as GetProject answers it, with its schedules and, if asked, its sharing.
    `for_action` is the action whose answer this is (see ProjectService.get)."""
    view = services.projects.get(actor, project_id, for_action)
    sharing = (
        services.project_sharing.sharing(actor, project_id, for_action) if include_sharing else None
    )
    return project_out(view, services.schedules.list(actor, project_id, for_action), sharing)


def version_out(version: PublishedVersion) -> project_wire.PublishedVersionOut:
    return project_wire.PublishedVersionOut(
        projectId=version.project_id,
        version=version.version,
        publishedAt=wire.format_ts(version.published_at) or "",
        parameters=[parameter_out(spec) for spec in version.parameters],
    )


@router.get(
    "/projects",
    response_model=project_wire.ProjectList,
    summary="ListProjects",
    responses=errors(404),
)
def list_projects(
    actor: ActorDep,
    services: ServicesDep,
    includeArchived: bool = False,
    includeComponents: bool = False,
    includeTrashed: bool = False,
    includeSharing: bool = False,
    statuses: Annotated[list[str] | None, Query()] = None,
    statuses_brackets: Annotated[
        list[str] | None, Query(alias="statuses[]", include_in_schema=False)
    ] = None,
    creatorEmail: str | None = None,
    ownerEmail: str | None = None,
    collectionId: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    after: str | None = None,
    before: str | None = None,
    sortBy: Literal["CREATED_AT", "LAST_EDITED_AT", "LAST_PUBLISHED_AT"] = "CREATED_AT",
    sortDirection: Literal["DESC", "ASC"] = "DESC",
) -> project_wire.ProjectList:
    flt = ProjectFilter(
        include_archived=includeArchived,
        include_trashed=includeTrashed,
        include_components=includeComponents,
        statuses=merged_list(statuses, statuses_brackets),
        creator_email=creatorEmail,
        owner_email=ownerEmail,
        # An unknown collection (or one not shared with the actor) is a 404.
        project_ids=(
            services.collections.project_ids(actor, str(collectionId)) if collectionId else None
        ),
    )
    page = services.projects.list(
        actor,
        flt,
        sort_by=sortBy,
        descending=sortDirection == "DESC",
        after=after,
        before=before,
        limit=limit,
    )
    schedules = services.schedules.of_projects(actor, [v.row.id for v in page.values])
    return project_wire.ProjectList(
        values=[
            project_out(
                view,
                schedules[view.row.id],
                services.project_sharing.sharing(actor, view.row.id) if includeSharing else None,
            )
            for view in page.values
        ],
        pagination=wire.Pagination(after=page.after, before=page.before),
    )


@router.post(
    "/projects", status_code=201, response_model=project_wire.Project, summary="CreateProject"
)
def create_project(
    body: project_wire.CreateProjectBody, actor: ActorDep, services: ServicesDep
) -> project_wire.Project:
    return project_out(services.projects.create(actor, body.title, body.description))


@router.post(
    "/projects/import",
    status_code=201,
    response_model=project_wire.ImportResult,
    summary="Import a notebook as a new project (Runyard extension)",
    responses=errors(422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
async def import_project(
    request: Request,
    actor: ActorDep,
    services: ServicesDep,
    publish: bool = False,
    title: str | None = None,
    description: str | None = None,
) -> project_wire.ImportResult:
    limit = services.projects.max_notebook_bytes
    raw, filename = await read_notebook_upload(request, limit)
    fallback_title = filename.rsplit("/", 1)[-1].removesuffix(".ipynb") if filename else None
    view, version = await run_in_threadpool(
        services.projects.import_notebook,
        actor,
        raw,
        title=title or None,
        description=description,
        publish=publish,
        fallback_title=fallback_title,
    )
    return project_wire.ImportResult(
        project=project_out(view), publishedVersion=version.version if version else None
    )


@router.get("/projects/{projectId}", response_model=project_wire.Project, summary="GetProject")
def get_project(
    projectId: uuid.UUID, actor: ActorDep, services: ServicesDep, includeSharing: bool = False
) -> project_wire.Project:
    return full_project(services, actor, str(projectId), includeSharing)


@router.patch("/projects/{projectId}", response_model=project_wire.Project, summary="UpdateProject")
def update_project(
    projectId: uuid.UUID,
    body: project_wire.UpdateProjectBody,
    actor: ActorDep,
    services: ServicesDep,
) -> project_wire.Project:
    changes: dict[str, Any] = {}
    if "status" in body.model_fields_set:
        changes["status"] = body.status
    if "runTimeoutSeconds" in body.model_fields_set:
        changes["run_timeout_seconds"] = body.runTimeoutSeconds
    if "memoryLimitMb" in body.model_fields_set:
        changes["memory_limit_mb"] = body.memoryLimitMb
    return project_out(services.projects.update(actor, str(projectId), changes))


@router.put(
    "/projects/{projectId}/notebook",
    response_model=project_wire.Project,
    summary="Replace the draft notebook (Runyard extension)",
    responses=errors(422),
    openapi_extra=NOTEBOOK_BODY,
)
async def put_notebook(
    projectId: uuid.UUID, request: Request, actor: ActorDep, services: ServicesDep
) -> project_wire.Project:
    raw = await read_body(request, services.projects.max_notebook_bytes)
    view = await run_in_threadpool(services.projects.replace_notebook, actor, str(projectId), raw)
    return project_out(view)


@router.get(
    "/projects/{projectId}/notebook",
    summary="Download the draft notebook (Runyard extension)",
    response_model=dict[str, Any],
)
def get_notebook(
    projectId: uuid.UUID,
    actor: ActorDep,
    services: ServicesDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    return services.projects.notebook(actor, str(projectId), version)


@router.post(
    "/projects/{projectId}/publish",
    status_code=201,
    response_model=project_wire.PublishedVersionOut,
    summary="Publish the draft as the next version (Runyard extension)",
    responses=errors(422),
)
def publish_project(
    projectId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> project_wire.PublishedVersionOut:
    return version_out(services.projects.publish(actor, str(projectId)))
