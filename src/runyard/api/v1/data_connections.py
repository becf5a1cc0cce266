"""Hex's data-connection endpoints, also served under the seed document's
`/workspace/connections`, plus Runyard's DELETE."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from runyard.api import wire
from runyard.api.connection_wire import (
    CreateConnectionBody,
    DataConnection,
    DataConnectionBasic,
    DataConnectionList,
    EditConnectionBody,
    GroupGrantIn,
    GroupGrantOut,
    GroupOut,
    SharingOut,
    WorkspaceSharingIn,
    WorkspaceSharingOut,
)
from runyard.api.deps import ActorDep, ServicesDep
from runyard.api.openapi import errors
from runyard.errors import BadRequest
from runyard.services.connections import ConnectionSettings, ConnectionView

router = APIRouter(tags=["data connections"])

# Each path is served twice: Hex's `/data-connections` and the seed document's
# `/workspace/connections`.
_PREFIXES = ("/data-connections", "/workspace/connections")


def connection_out(view: ConnectionView) -> DataConnection:
    row = view.row
    return DataConnection(
        id=row.id,
        name=row.name,
        type=row.type,
        connectionDetails={row.type: view.readable_details},
        connectViaSsh=row.connect_via_ssh,
        includeMagic=row.include_magic,
        allowWritebackCells=row.allow_writeback_cells,
        schemaRefreshAccess=row.schema_refresh_access,
        sharing=SharingOut(
            workspace=WorkspaceSharingOut(
                public=row.public_access, guests=row.guests_access, members=row.members_access
            ),
            groups=[
                GroupGrantOut(group=GroupOut(id=g.group_id, name=g.group_name), access=g.access)
                for g in view.grants
            ],
        ),
        description=row.description,
        schemaFilters=row.schema_filters,
        schemaRefreshSchedule=row.schema_refresh_schedule,
        createdAt=wire.format_ts(row.created_at),
        updatedAt=wire.format_ts(row.updated_at),
        cacheLifetimeSeconds=row.sql_cache_lifetime_seconds,
    )


def readable_out(view: ConnectionView) -> DataConnection | DataConnectionBasic:
    """The full resource for an admin; the basic one for someone it is only shared with."""
    if view.full:
        return connection_out(view)
    row = view.row
    return DataConnectionBasic(id=row.id, name=row.name, type=row.type, description=row.description)


def _workspace(sharing: WorkspaceSharingIn | None) -> dict[str, str]:
    return {} if sharing is None else sharing.model_dump(exclude_none=True, mode="json")


def _grants(grants: list[GroupGrantIn] | None) -> list[tuple[str, str]]:
    return [(str(grant.group.id), grant.access.value) for grant in grants or []]


def list_connections(
    actor: ActorDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    after: str | None = None,
    before: str | None = None,
    sortBy: Literal["NAME", "CREATED_AT"] = "NAME",
    sortDirection: Literal["ASC", "DESC"] = "ASC",
) -> DataConnectionList:
    page = services.connections.list(
        actor,
        sort_by=sortBy,
        descending=sortDirection == "DESC",
        after=after,
        before=before,
        limit=limit,
    )
    return DataConnectionList(
        values=[readable_out(view) for view in page.values],
        pagination=wire.Pagination(after=page.after, before=page.before),
    )


def get_connection(
    dataConnectionId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> DataConnection | DataConnectionBasic:
    return readable_out(services.connections.get(actor, str(dataConnectionId)))


def create_connection(
    body: CreateConnectionBody, actor: ActorDep, services: ServicesDep
) -> DataConnection:
    sharing = body.sharing
    settings = ConnectionSettings(
        description=body.description,
        connect_via_ssh=body.connectViaSsh,
        include_magic=body.includeMagic,
        allow_writeback_cells=body.allowWritebackCells,
        schema_filters=_dumped(body.schemaFilters),
        schema_refresh_schedule=_dumped(body.schemaRefreshSchedule),
        schema_refresh_access=body.schemaRefreshAccess.value,
        sql_cache_lifetime_seconds=body.cacheLifetimeSeconds,
        workspace_sharing=_workspace(sharing.workspace if sharing else None),
        group_sharing=_grants(sharing.groups if sharing else None),
    )
    view = services.connections.create(
        actor,
        name=body.name,
        kind=body.type.value,
        connection_details=body.connectionDetails,
        settings=settings,
    )
    return connection_out(view)


# Wire name -> the service's name, for the fields PATCH passes on as given.
_EDITABLE = {
    "name": "name",
    "type": "type",
    "connectionDetails": "connection_details",
    "description": "description",
    "connectViaSsh": "connect_via_ssh",
    "includeMagic": "include_magic",
    "allowWritebackCells": "allow_writeback_cells",
    "schemaFilters": "schema_filters",
    "schemaRefreshSchedule": "schema_refresh_schedule",
    "schemaRefreshAccess": "schema_refresh_access",
    "cacheLifetimeSeconds": "sql_cache_lifetime_seconds",
}


def edit_connection(
    dataConnectionId: uuid.UUID, body: EditConnectionBody, actor: ActorDep, services: ServicesDep
) -> DataConnection:
    nulls = body.given_nulls()
    if nulls:
        raise BadRequest(
            "Invalid input data", issues=[f"{name}: must not be null" for name in nulls]
        )
    changes: dict[str, Any] = {
        _EDITABLE[key]: _plain(getattr(body, key))
        for key in body.model_fields_set
        if key in _EDITABLE
    }
    if body.sharing is not None:
        changes["workspace_sharing"] = _workspace(body.sharing.workspace)
        if body.sharing.groups is not None:
            changes["group_sharing"] = _grants(body.sharing.groups.upsert)
    view = services.connections.update(actor, str(dataConnectionId), changes)
    return connection_out(view)


def delete_connection(
    dataConnectionId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> Response:
    services.connections.delete(actor, str(dataConnectionId))
    return Response(status_code=204)


def _dumped(model: BaseModel | None) -> dict[str, Any] | None:
    return None if model is None else model.model_dump(mode="json", exclude_none=True)


def _plain(value: Any) -> Any:
    """A body field as the service takes it: models as JSON-ready dicts, enums as strings."""
    if isinstance(value, BaseModel):
        return _dumped(value)
    return value.value if isinstance(value, StrEnum) else value


for _prefix in _PREFIXES:
    _alias = "" if _prefix == "/data-connections" else " (alias of /data-connections)"
    _item = f"{_prefix}/{{dataConnectionId}}"
    router.get(_prefix, response_model=DataConnectionList, summary=f"ListDataConnections{_alias}")(
        list_connections
    )
    router.post(
        _prefix,
        status_code=201,
        response_model=DataConnection,
        summary=f"CreateDataConnection{_alias}",
        responses=errors(404),  # a group it is shared with that does not exist
    )(create_connection)
    router.get(
        _item,
        response_model=DataConnection | DataConnectionBasic,
        summary=f"GetDataConnection{_alias}",
    )(get_connection)
    # 201, not 200: Hex's spec lists EditDataConnection's success as 201 (contract Q12).
    router.patch(
        _item,
        status_code=201,
        response_model=DataConnection,
        summary=f"EditDataConnection{_alias}",
    )(edit_connection)
    router.delete(
        _item,
        status_code=204,
        response_class=Response,
        summary=f"Delete a data connection (Runyard extension){_alias}",
    )(delete_connection)
