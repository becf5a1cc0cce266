"""Hex's cells API over the draft notebook (contract §11), and a cell's output in a run."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field

from runyard.api.wire import Pagination, StrictWire, Wire


class CodeCellContents(Wire):
    source: str


class SqlCellContents(Wire):
    source: str
    outputDataframe: str | None


class CellContents(Wire):
    codeCell: CodeCellContents | None
    sqlCell: SqlCellContents | None
    markdownCell: CodeCellContents | None


class CellOut(Wire):
    id: str
    staticId: str
    cellType: str
    label: str | None
    dataConnectionId: str | None
    projectId: str
    contents: CellContents


class CellList(Wire):
    values: list[CellOut]
    pagination: Pagination


class SourceIn(StrictWire):
    source: str = Field(max_length=1_000_000)


class SqlCellIn(StrictWire):
    source: str = Field(max_length=1_000_000)
    dataConnectionId: str | None = Field(default=None, min_length=1, max_length=255)
    isDataframeSql: bool | None = None
    outputDataframe: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class CreateCellContents(StrictWire):
    codeCell: SourceIn | None = None
    sqlCell: SqlCellIn | None = None
    markdownCell: SourceIn | None = None


class CellLocation(StrictWire):
    insertAfterCellId: uuid.UUID | None = None
    parentCellId: uuid.UUID | None = None
    childPosition: Literal["FIRST", "LAST"] = "LAST"


class CreateCellBody(StrictWire):
    projectId: uuid.UUID
    cellType: Literal["CODE", "SQL", "MARKDOWN"]
    label: str | None = Field(default=None, max_length=500)
    contents: CreateCellContents
    location: CellLocation | None = None


class SqlCellPatch(StrictWire):
    source: str | None = Field(default=None, max_length=1_000_000)
    outputDataframe: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class UpdateCellContents(StrictWire):
    codeCell: SourceIn | None = None
    sqlCell: SqlCellPatch | None = None
    markdownCell: SourceIn | None = None


class UpdateCellBody(StrictWire):
    dataConnectionId: str | None = Field(default=None, min_length=1, max_length=255)
    contents: UpdateCellContents | None = None


class DeletedCell(Wire):
    cellId: str


class CellRef(Wire):
    id: str
    staticId: str
    cellType: str


class CellOutputOut(Wire):
    projectId: str
    runId: str
    cell: CellRef
    result: dict[str, Any]
