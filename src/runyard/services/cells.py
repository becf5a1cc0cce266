"""Hex's cells API over a project's draft notebook: list, get, create, update, delete, and the
latest output of a cell.

The draft notebook stays the one truth: every change reads it, edits one cell, checks the
result as an upload is checked (`ProjectService.parse`), and writes it back with the index of
its cells, in one transaction. Published versions are snapshots, so nothing here changes them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runyard.domain import cells as cells_domain
from runyard.domain.permissions import Action, Actor
from runyard.errors import BadRequest, InvalidField, NotFound
from runyard.services.project_access import checked_project
from runyard.services.projects import ProjectService, require
from runyard.store import cells as store
from runyard.store import runs as run_store
from runyard.store.db import Database

EMPTY_NOTEBOOK: dict[str, Any] = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {
        "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}
    },
    "cells": [],
}


@dataclass(frozen=True)
class Cell:
    """One cell of a draft, as the API shows it."""

    id: str
    project_id: str
    notebook_cell_id: str
    cell_type: str  # CODE, SQL, MARKDOWN, TEXT
    source: str
    data_connection_id: str | None
    output_dataframe: str | None
    label: str | None


@dataclass(frozen=True)
class CellPage:
    values: list[Cell]
    after: str | None
    before: str | None


@dataclass(frozen=True)
class NewCell:
    cell_type: str  # CODE, SQL or MARKDOWN
    source: str
    label: str | None = None
    data_connection_id: str | None = None
    output_dataframe: str | None = None
    insert_after: str | None = None  # an API cell id
    first: bool = False


@dataclass(frozen=True)
class CellOutput:
    project_id: str
    run_id: str
    cell: Cell
    result: dict[str, Any]


class CellService:
    def __init__(self, db: Database, projects: ProjectService, clock: Callable[[], datetime]):
        self._db = db
        self._projects = projects
        self._clock = clock

    # -- reads -----------------------------------------------------------------------------

    def list(
        self, actor: Actor, project_id: str, *, after: str | None, before: str | None, limit: int
    ) -> CellPage:
        """A page of the draft's cells in notebook order. The cursors are cell ids: `after`
        starts behind that cell, `before` ends ahead of it."""
        if after and before:
            raise BadRequest("Give after or before, not both", issues=["after: not with before"])
        require(actor, Action.READ_CELLS)
        with self._db.read() as session:
            row, _ = checked_project(session, actor, project_id, Action.READ_CELLS)
            cells = _cells_of(project_id, row.draft_notebook)
        ids = [cell.id for cell in cells]
        start, end = 0, len(cells)
        if after:
            start = _position(ids, after, "after") + 1
            end = min(start + limit, len(cells))
        elif before:
            end = _position(ids, before, "before")
            start = max(end - limit, 0)
        else:
            end = min(limit, len(cells))
        page = cells[start:end]
        return CellPage(
            values=page,
            after=page[-1].id if page and end < len(cells) else None,
            before=page[0].id if page and start > 0 else None,
        )

    def get(self, actor: Actor, cell_id: str, action: Action = Action.READ_CELLS) -> Cell:
        require(actor, action)
        with self._db.read() as session:
            project_id, notebook = self._draft_of(session, actor, cell_id, action)
        return _find(project_id, notebook, cell_id)[1]

    def output(self, actor: Actor, cell_id: str) -> CellOutput:
        """The cell's output in the project's latest finished run that executed it: its
        table (what pandas showed), or the error it raised."""
        cell = self.get(actor, cell_id)
        with self._db.read() as session:
            for run in run_store.list_runs(
                session,
                cell.project_id,
                statuses=["COMPLETED", "ERRORED"],
                triggers=None,
                limit=20,
                offset=0,
            ):
                artifact = run_store.get_artifact(session, run.id, "notebook")
                if artifact is None:
                    continue
                result = _result_of(json.loads(artifact.content), cell.notebook_cell_id)
                if result is not None:
                    return CellOutput(cell.project_id, run.id, cell, result)
        raise NotFound("output of cell", cell_id)

    # -- writes ----------------------------------------------------------------------------

    def create(self, actor: Actor, project_id: str, new: NewCell) -> Cell:
        require(actor, Action.EDIT_CELLS)
        with self._db.write() as session:
            row, _ = checked_project(session, actor, project_id, Action.EDIT_CELLS)
            notebook = json.loads(json.dumps(row.draft_notebook or EMPTY_NOTEBOOK))
            cells = notebook["cells"]
            position = 0 if new.first else len(cells)
            if new.insert_after is not None:
                ids = [cells_domain.api_cell_id(project_id, c["id"]) for c in cells]
                position = _position(ids, new.insert_after, "location.insertAfterCellId") + 1
            nb_id = uuid.uuid4().hex
            cells.insert(position, _nbformat_cell(nb_id, new))
            self._save(session, row, notebook)
        return _find(project_id, notebook, cells_domain.api_cell_id(project_id, nb_id))[1]

    def update(self, actor: Actor, cell_id: str, changes: dict[str, Any]) -> Cell:
        """Apply `changes` (keys: source, data_connection_id, output_dataframe)."""
        require(actor, Action.EDIT_CELLS)
        with self._db.write() as session:
            project_id, _ = self._draft_of(session, actor, cell_id, Action.EDIT_CELLS)
            row = self._projects_row(session, project_id)
            notebook = json.loads(json.dumps(row.draft_notebook))
            index, cell = _find(project_id, notebook, cell_id)
            raw = notebook["cells"][index]
            if "source" in changes:
                raw["source"] = changes["source"]
            if "data_connection_id" in changes or "output_dataframe" in changes:
                if cell.cell_type != "SQL":
                    raise InvalidField(
                        field_name="dataConnectionId",
                        reason="only a SQL cell has a data connection",
                    )
                spec = raw["metadata"]["runyard"]["sql"]
                if "data_connection_id" in changes:
                    if changes["data_connection_id"] is None:
                        raise InvalidField(
                            field_name="dataConnectionId",
                            reason="a SQL cell needs a data connection; delete the cell instead",
                        )
                    spec["connection"] = changes["data_connection_id"]
                if changes.get("output_dataframe") is not None:
                    spec["output"] = changes["output_dataframe"]
            self._save(session, row, notebook)
        return _find(project_id, notebook, cell_id)[1]

    def delete(self, actor: Actor, cell_id: str) -> None:
        require(actor, Action.EDIT_CELLS)
        with self._db.write() as session:
            project_id, _ = self._draft_of(session, actor, cell_id, Action.EDIT_CELLS)
            row = self._projects_row(session, project_id)
            notebook = json.loads(json.dumps(row.draft_notebook))
            index, _ = _find(project_id, notebook, cell_id)
            del notebook["cells"][index]
            self._save(session, row, notebook)

    # -- helpers ---------------------------------------------------------------------------

    def _draft_of(
        self, session: Any, actor: Actor, cell_id: str, action: Action
    ) -> tuple[str, dict[str, Any]]:
        indexed = store.get_cell(session, cell_id)
        if indexed is None:
            raise NotFound("cell", cell_id)
        row, _ = checked_project(session, actor, indexed.project_id, action)
        if row.draft_notebook is None:
            raise NotFound("cell", cell_id)
        return row.id, row.draft_notebook

    def _projects_row(self, session: Any, project_id: str) -> Any:
        from runyard.store import projects as project_store

        row = project_store.get_project(session, project_id)
        assert row is not None
        return row

    def _save(self, session: Any, row: Any, notebook: dict[str, Any]) -> None:
        # The edited draft is checked as an uploaded one (a bad parameters cell, say, is a
        # 422) and stored in the normal form.
        checked = self._projects.parse(json.dumps(notebook))
        row.draft_notebook = checked
        row.last_edited_at = self._clock()
        session.flush()
        store.index_draft(session, row.id, checked)


def _position(ids: list[str], cell_id: str, field: str) -> int:
    try:
        return ids.index(cell_id)
    except ValueError:
        raise BadRequest(
            f"{field}: no cell {cell_id} in this project's draft",
            issues=[f"{field}: no such cell in this project's draft"],
        ) from None


def _cells_of(project_id: str, notebook: dict[str, Any] | None) -> list[Cell]:
    if notebook is None:
        return []
    return [_cell(project_id, raw) for raw in notebook.get("cells", [])]


def _find(project_id: str, notebook: dict[str, Any], cell_id: str) -> tuple[int, Cell]:
    for index, raw in enumerate(notebook.get("cells", [])):
        if cells_domain.api_cell_id(project_id, raw["id"]) == cell_id:
            return index, _cell(project_id, raw)
    raise NotFound("cell", cell_id)


def _cell(project_id: str, raw: dict[str, Any]) -> Cell:
    spec = cells_domain.sql_spec(raw) if raw.get("cell_type") == "code" else None
    metadata = raw.get("metadata") or {}
    runyard = metadata.get("runyard")
    label = runyard.get("label") if isinstance(runyard, dict) else None
    label = label if isinstance(label, str) else None
    return Cell(
        id=cells_domain.api_cell_id(project_id, raw["id"]),
        project_id=project_id,
        notebook_cell_id=raw["id"],
        cell_type=cells_domain.cell_type_of(raw),
        source=cells_domain.source_of(raw),
        data_connection_id=str(spec.get("connection")) if spec else None,
        output_dataframe=str(spec.get("output")) if spec else None,
        label=label,
    )


def _nbformat_cell(nb_id: str, new: NewCell) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if new.label is not None:
        metadata["runyard"] = {"label": new.label}
    if new.cell_type == "MARKDOWN":
        return {"id": nb_id, "cell_type": "markdown", "metadata": metadata, "source": new.source}
    if new.cell_type == "SQL":
        if not new.data_connection_id:
            raise InvalidField(
                field_name="contents.sqlCell.dataConnectionId",
                reason="a SQL cell needs a data connection",
            )
        metadata.setdefault("runyard", {})["sql"] = {
            "connection": new.data_connection_id,
            "output": new.output_dataframe or cells_domain.DEFAULT_SQL_OUTPUT,
        }
    return {
        "id": nb_id,
        "cell_type": "code",
        "metadata": metadata,
        "source": new.source,
        "outputs": [],
        "execution_count": None,
    }


def _result_of(executed: dict[str, Any], notebook_cell_id: str) -> dict[str, Any] | None:
    """Hex's output `result` for the cell in an executed notebook; None if it is not there
    or has neither a table nor an error."""
    for raw in executed.get("cells", []):
        if raw.get("id") != notebook_cell_id:
            continue
        for output in raw.get("outputs", []):
            if output.get("output_type") == "error":
                traceback = output.get("traceback")
                return {
                    "type": "cell_run_error",
                    "message": f"{output.get('ename', '')}: {output.get('evalue', '')}",
                    "traceback": "\n".join(traceback) if isinstance(traceback, list) else None,
                }
        for output in raw.get("outputs", []):
            html = (output.get("data") or {}).get("text/html")
            if html is None:
                continue
            table = cells_domain.table_of_html("".join(html) if isinstance(html, list) else html)
            if table is None:
                continue
            columns, rows = table
            return {
                "type": "table",
                "rowLimit": len(rows),
                "rowsReturned": len(rows),
                "totalRows": None,
                "totalRowsKind": "UNKNOWN",
                "truncated": False,
                "columns": [{"name": name, "type": "STRING"} for name in columns],
                "rows": [dict(zip(columns, row, strict=False)) for row in rows],
            }
        return None
    return None
