"""Hex's GetQueriedTables: the tables the SQL cells of a project's published version read."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from runyard.api import queried_table_wire, wire
from runyard.api.deps import ActorDep, ServicesDep
from runyard.api.tracing import current_trace_id

router = APIRouter(tags=["projects"])


@router.get(
    "/projects/{projectId}/queriedTables",
    response_model=queried_table_wire.QueriedTableList,
    summary="GetQueriedTables",
)
def get_queried_tables(
    projectId: uuid.UUID,
    actor: ActorDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    after: str | None = None,
    before: str | None = None,
) -> queried_table_wire.QueriedTableList:
    page = services.queried_tables.list(
        actor, str(projectId), after=after, before=before, limit=limit
    )
    return queried_table_wire.QueriedTableList(
        values=[
            queried_table_wire.QueriedTable(
                dataConnectionId=table.data_connection_id,
                dataConnectionName=table.data_connection_name,
                tableName=table.table_name,
            )
            for table in page.values
        ],
        pagination=wire.Pagination(after=page.after, before=page.before),
        traceId=current_trace_id(),
    )
