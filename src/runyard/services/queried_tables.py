"""Hex's queriedTables: the tables each SQL cell of a project's published version reads.

Each SQL cell's text is parsed with sqlglot in its data connection's dialect; the tables are
the `Table` nodes of the parse, less the names the query itself defines (CTEs). A cell whose
connection cannot be found, or whose SQL does not parse, reads no table this can name: it is
left out rather than guessed at.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from runyard.domain import cells as cells_domain
from runyard.domain.permissions import Action, Actor
from runyard.errors import BadRequest
from runyard.services.projects import ProjectService
from runyard.store import connections as connection_store
from runyard.store.connections import DataConnectionRow
from runyard.store.db import Database

log = logging.getLogger(__name__)

# Runyard's and Hex's connection types -> sqlglot's dialect names.
DIALECTS = {
    "postgres": "postgres",
    "redshift": "redshift",
    "mysql": "mysql",
    "duckdb": "duckdb",
    "sqlite": "sqlite",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "databricks": "databricks",
    "athena": "athena",
    "trino": "trino",
    "clickhouse": "clickhouse",
}
# `{{ name }}` stands for a bound value (docs/sql-cells.md): a literal in its place parses.
_PLACEHOLDER = re.compile(r"\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\}")


@dataclass(frozen=True, order=True)
class QueriedTable:
    data_connection_name: str
    table_name: str
    data_connection_id: str


@dataclass(frozen=True)
class QueriedTablePage:
    values: list[QueriedTable]
    after: str | None
    before: str | None


def tables_read(sql: str, dialect: str | None) -> list[str]:
    """The qualified names (`catalog.schema.table`, as written) of the tables `sql` reads,
    each once, in order of appearance; CTE names are not tables. Raises SqlglotError."""
    # Imported here: sqlglot weighs about 26 MB, carried only by a server asked for tables.
    import sqlglot
    from sqlglot import exp

    text = _PLACEHOLDER.sub("NULL", sql)
    found: list[str] = []
    for statement in sqlglot.parse(text, read=dialect):
        if statement is None:
            continue
        defined = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
        for table in statement.find_all(exp.Table):
            if not table.name:
                continue  # a table function, say
            if not table.db and not table.catalog and table.name in defined:
                continue
            parts = [part for part in (table.catalog, table.db, table.name) if part]
            name = ".".join(parts)
            if name not in found:
                found.append(name)
    return found


class QueriedTableService:
    def __init__(self, db: Database, projects: ProjectService, clock: Callable[[], datetime]):
        self._db = db
        self._projects = projects
        self._clock = clock

    def list(
        self, actor: Actor, project_id: str, *, after: str | None, before: str | None, limit: int
    ) -> QueriedTablePage:
        """A page of the tables, by connection name then table name. The cursors are
        positions in that order (opaque to clients)."""
        if after and before:
            raise BadRequest("Give after or before, not both", issues=["after: not with before"])
        self._projects.check(actor, project_id, Action.READ_QUERIED_TABLES)
        version = self._projects.published_version(project_id)
        from sqlglot.errors import SqlglotError  # see tables_read

        tables: set[QueriedTable] = set()
        with self._db.read() as session:
            for cell in version.notebook.get("cells", []):
                spec = cells_domain.sql_spec(cell) if cell.get("cell_type") == "code" else None
                reference = spec.get("connection") if spec else None
                if not isinstance(reference, str):
                    continue
                row = _connection(session, reference.strip())
                if row is None:
                    continue
                try:
                    names = tables_read(cells_domain.source_of(cell), DIALECTS.get(row.type))
                except SqlglotError as error:
                    log.info("cell %s of %s does not parse: %s", cell.get("id"), project_id, error)
                    continue
                tables |= {QueriedTable(row.name, name, row.id) for name in names}
        ordered = sorted(tables)
        start = _offset(after, "after") if after else 0
        end = start + limit
        if before:
            end = _offset(before, "before")
            start = max(end - limit, 0)
        page = ordered[start:end]
        return QueriedTablePage(
            values=page,
            after=str(start + len(page)) if start + len(page) < len(ordered) else None,
            before=str(start) if start > 0 and page else None,
        )


def _connection(session: Session, reference: str) -> DataConnectionRow | None:
    """The connection a SQL cell names: by id, else by its (unique) name."""
    row = connection_store.get_connection(session, reference)
    if row is not None:
        return row
    named = session.scalars(
        select(DataConnectionRow).where(DataConnectionRow.name == reference).limit(2)
    ).all()
    return named[0] if len(named) == 1 else None


def _offset(cursor: str, field: str) -> int:
    if not cursor.isdigit() or len(cursor) > 9:
        raise BadRequest(f"{field}: not a cursor this server made", issues=[f"{field}: invalid"])
    return int(cursor)
