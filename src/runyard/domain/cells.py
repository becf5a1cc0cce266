"""Cells of a draft notebook as Hex's cells API sees them: ids, types, and table outputs.

A cell's API id is a UUID derived from its project and its nbformat cell id, so it is stable
for as long as the cell is (edits and publishing keep nbformat ids), unique across projects
even when two projects were imported from the same .ipynb, and the same in the draft and in
every published version (Hex's `staticId`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

# Fixed forever: changing it would change every cell id (migration 0012 copies it).
CELL_ID_NAMESPACE = uuid.UUID("5b0e7c1e-9a51-4c57-8f0e-2f7c3e0b6a01")
DEFAULT_SQL_OUTPUT = "dataframe"


def api_cell_id(project_id: str, notebook_cell_id: str) -> str:
    return str(uuid.uuid5(CELL_ID_NAMESPACE, f"{project_id}:{notebook_cell_id}"))


def cell_type_of(cell: Mapping[str, Any]) -> str:
    """Hex's `cellType`: SQL for a `runyard.sql` code cell, CODE, MARKDOWN; TEXT for raw."""
    kind = cell.get("cell_type")
    if kind == "markdown":
        return "MARKDOWN"
    if kind == "raw":
        return "TEXT"
    return "SQL" if sql_spec(cell) is not None else "CODE"


def sql_spec(cell: Mapping[str, Any]) -> dict[str, Any] | None:
    metadata = cell.get("metadata")
    runyard = metadata.get("runyard") if isinstance(metadata, Mapping) else None
    spec = runyard.get("sql") if isinstance(runyard, Mapping) else None
    return dict(spec) if isinstance(spec, Mapping) else None


def source_of(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


class _TableParser(HTMLParser):
    """Reads the first <table> of pandas' HTML: header cells, then rows of cells."""

    def __init__(self) -> None:
        super().__init__()
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self._section = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._tables = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._tables += 1
        if self._tables != 1:
            return
        if tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if self._tables != 1:
            return
        if tag in ("th", "td") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._section == "thead" and not self.header:
                self.header = self._row
            elif self._section == "tbody":
                self.rows.append(self._row)
            self._row = None
        elif tag == "table":
            self._tables += 1  # only the first table counts

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_of_html(html: str) -> tuple[list[str], list[list[str]]] | None:
    """(columns, rows) of the DataFrame pandas rendered as HTML, the index column dropped;
    None if there is no table. Rows pandas elided (`...`) are left out."""
    parser = _TableParser()
    parser.feed(html)
    if not parser.header:
        return None
    columns = parser.header[1:]
    rows = [row[1:] for row in parser.rows if row and row[0] != "..."]
    return columns, rows
