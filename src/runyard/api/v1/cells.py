"""Hex's cells API (§11) over a project's draft notebook, and a cell's latest output."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from runyard.api import cell_wire, wire
from runyard.api.deps import ActorDep, ServicesDep
from runyard.api.openapi import errors
from runyard.domain.permissions import Action
from runyard.errors import InvalidField
from runyard.services.cells import Cell, NewCell

router = APIRouter(tags=["cells"])


def cell_out(cell: Cell) -> cell_wire.CellOut:
    code = cell_wire.CodeCellContents(source=cell.source)
    return cell_wire.CellOut(
        id=cell.id,
        # The API id is derived from the nbformat cell id, which publishing keeps: the same
        # in the draft and in every version.
        staticId=cell.id,
        cellType=cell.cell_type,
        label=cell.label,
        dataConnectionId=cell.data_connection_id,
        projectId=cell.project_id,
        contents=cell_wire.CellContents(
            codeCell=code if cell.cell_type == "CODE" else None,
            sqlCell=cell_wire.SqlCellContents(
                source=cell.source, outputDataframe=cell.output_dataframe
            )
            if cell.cell_type == "SQL"
            else None,
            markdownCell=code if cell.cell_type in ("MARKDOWN", "TEXT") else None,
        ),
    )


@router.get("/cells", response_model=cell_wire.CellList, summary="ListCells", responses=errors(404))
def list_cells(
    projectId: uuid.UUID,
    actor: ActorDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    after: str | None = None,
    before: str | None = None,
) -> cell_wire.CellList:
    page = services.cells.list(actor, str(projectId), after=after, before=before, limit=limit)
    return cell_wire.CellList(
        values=[cell_out(cell) for cell in page.values],
        pagination=wire.Pagination(after=page.after, before=page.before),
    )


@router.get("/cells/{cellId}", response_model=cell_wire.CellOut, summary="GetCell")
def get_cell(cellId: uuid.UUID, actor: ActorDep, services: ServicesDep) -> cell_wire.CellOut:
    return cell_out(services.cells.get(actor, str(cellId)))


@router.post(
    "/cells", response_model=cell_wire.CellOut, summary="CreateCell", responses=errors(404, 422)
)
def create_cell(
    body: cell_wire.CreateCellBody, actor: ActorDep, services: ServicesDep
) -> cell_wire.CellOut:
    """Append a cell to the draft, or place it after `location.insertAfterCellId` (or first,
    with `childPosition: FIRST`). Answers 200, as Hex does."""
    contents = body.contents
    given = [name for name in ("codeCell", "sqlCell", "markdownCell") if getattr(contents, name)]
    wanted = {"CODE": "codeCell", "SQL": "sqlCell", "MARKDOWN": "markdownCell"}[body.cellType]
    if given != [wanted]:
        raise InvalidField(
            field_name="contents", reason=f"a {body.cellType} cell takes exactly {wanted}"
        )
    location = body.location or cell_wire.CellLocation()
    if location.parentCellId is not None:
        raise InvalidField(
            field_name="location.parentCellId",
            reason="Runyard notebooks have no cell groups: leave it out",
        )
    sql = contents.sqlCell
    source_holder: Any = getattr(contents, wanted)
    new = NewCell(
        cell_type=body.cellType,
        source=source_holder.source,
        label=body.label,
        data_connection_id=sql.dataConnectionId if sql else None,
        output_dataframe=sql.outputDataframe if sql else None,
        insert_after=str(location.insertAfterCellId) if location.insertAfterCellId else None,
        first=location.childPosition == "FIRST" and location.insertAfterCellId is None,
    )
    return cell_out(services.cells.create(actor, str(body.projectId), new))


@router.patch(
    "/cells/{cellId}", response_model=cell_wire.CellOut, summary="UpdateCell", responses=errors(422)
)
def update_cell(
    cellId: uuid.UUID, body: cell_wire.UpdateCellBody, actor: ActorDep, services: ServicesDep
) -> cell_wire.CellOut:
    changes: dict[str, Any] = {}
    if "dataConnectionId" in body.model_fields_set:
        changes["data_connection_id"] = body.dataConnectionId
    contents = body.contents
    if contents is not None:
        given = [n for n in ("codeCell", "sqlCell", "markdownCell") if getattr(contents, n)]
        if len(given) > 1:
            raise InvalidField(field_name="contents", reason="give one of its variants")
        if given:
            current = services.cells.get(actor, str(cellId), Action.EDIT_CELLS)
            wanted = {"CODE": "codeCell", "SQL": "sqlCell"}.get(current.cell_type, "markdownCell")
            if given != [wanted]:
                raise InvalidField(
                    field_name=f"contents.{given[0]}",
                    reason=f"this is a {current.cell_type} cell: use contents.{wanted}",
                )
            variant: Any = getattr(contents, wanted)
            if variant.source is not None:
                changes["source"] = variant.source
            if wanted == "sqlCell" and variant.outputDataframe is not None:
                changes["output_dataframe"] = variant.outputDataframe
    return cell_out(services.cells.update(actor, str(cellId), changes))


@router.delete("/cells/{cellId}", response_model=cell_wire.DeletedCell, summary="DeleteCell")
def delete_cell(cellId: uuid.UUID, actor: ActorDep, services: ServicesDep) -> cell_wire.DeletedCell:
    services.cells.delete(actor, str(cellId))
    return cell_wire.DeletedCell(cellId=str(cellId))


@router.get(
    "/cells/{cellId}/output", response_model=cell_wire.CellOutputOut, summary="GetCellOutput"
)
def get_cell_output(
    cellId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> cell_wire.CellOutputOut:
    """The cell's table (or error) in the project's latest finished run that executed it."""
    found = services.cells.output(actor, str(cellId))
    return cell_wire.CellOutputOut(
        projectId=found.project_id,
        runId=found.run_id,
        cell=cell_wire.CellRef(
            id=found.cell.id, staticId=found.cell.id, cellType=found.cell.cell_type
        ),
        result=found.result,
    )
