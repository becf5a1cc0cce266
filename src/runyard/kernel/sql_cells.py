"""SQL cells: cells whose metadata names a data connection and an output variable.

A SQL cell is a code cell with `{"runyard": {"sql": {"connection": …, "output": …}}}` in its
metadata and SQL as its source. The runner (not the kernel) connects to the database and
runs the query, so a connection's secrets never enter the kernel, where arbitrary user code
runs. The result goes to a Parquet file in the run's working directory, and the kernel reads
it into a pandas DataFrame named by `output`.

`{{ name }}` placeholders in the SQL become driver bind parameters whose values are the
kernel's variables of that name (parameters, or anything an earlier cell defined): the
value never becomes part of the SQL text, so it cannot inject SQL.

A query can be stopped from another thread (see sql_interrupt): each driver registers its
own way to stop a running statement while the statement runs.
"""

from __future__ import annotations

import ast
import json
import keyword
import re
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import URL

from runyard.kernel.sql_interrupt import QueryInterrupt, QueryInterrupted

if TYPE_CHECKING:
    import pyarrow as pa

# pyarrow (with numpy), duckdb and the database drivers are imported by the functions that
# query, not here: a server that runs no SQL cell does not carry them (about 60 MB).

# Bound values may be None, bool, int, float or str (and dates, as ISO text).
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# How long connecting may take before the cell fails.
CONNECT_TIMEOUT_SECONDS = 15
# How long a PostgreSQL cancel request may take to reach the server.
CANCEL_TIMEOUT_SECONDS = 10.0


def is_sql_cell(cell: Mapping[str, Any]) -> bool:
    """Return whether `cell` is a SQL cell (it has `runyard.sql` in its metadata)."""
    runyard = cell.get("metadata", {}).get("runyard")
    return isinstance(runyard, Mapping) and runyard.get("sql") is not None


class SqlCellError(Exception):
    """A SQL cell cannot run: a bad cell, a missing value, or the database refused it.

    `ename` names the kind of failure (the driver's exception class for a database error);
    the message never holds a connection's secrets.
    """

    def __init__(self, ename: str, message: str) -> None:
        super().__init__(message)
        self.ename = ename
        self.message = message


@dataclass(frozen=True)
class SqlCell:
    connection: str
    output: str
    sql: str


def sql_cell_of(cell: Mapping[str, Any]) -> SqlCell:
    """The SQL cell's settings and query; SqlCellError if they are malformed."""
    spec = cell["metadata"]["runyard"]["sql"]
    if not isinstance(spec, Mapping):
        raise SqlCellError("InvalidSqlCell", "metadata runyard.sql must be an object")
    connection = spec.get("connection")
    output = spec.get("output")
    if not isinstance(connection, str) or not connection.strip():
        raise SqlCellError("InvalidSqlCell", "metadata runyard.sql.connection must be a name or id")
    if not isinstance(output, str) or not output.isidentifier() or keyword.iskeyword(output):
        raise SqlCellError(
            "InvalidSqlCell", "metadata runyard.sql.output must be a Python variable name"
        )
    source = cell.get("source", "")
    sql = "".join(source) if isinstance(source, list) else str(source)
    if not sql.strip():
        raise SqlCellError("InvalidSqlCell", "the SQL cell has no query")
    return SqlCell(connection=connection.strip(), output=output, sql=sql)


def connection_references(notebook: Mapping[str, Any]) -> list[tuple[int, str]]:
    """(cell index, connection reference) of every SQL cell whose reference is readable."""
    found = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") == "code" and is_sql_cell(cell):
            spec = cell["metadata"]["runyard"]["sql"]
            reference = spec.get("connection") if isinstance(spec, Mapping) else None
            if isinstance(reference, str) and reference.strip():
                found.append((index, reference.strip()))
    return found


def placeholders(sql: str) -> list[str]:
    """The variable names the SQL's `{{ name }}` placeholders use, each once, in order."""
    return list(dict.fromkeys(PLACEHOLDER.findall(sql)))


def values_expression(names: Sequence[str]) -> str:
    """A Python expression the kernel evaluates to a JSON text of the named variables.

    numpy scalars become Python ones (`.item()`); dates and anything else without a JSON
    form become their text.
    """
    items = ", ".join(names)
    return (
        "__import__('json').dumps([v.item() if hasattr(v, 'item') and not isinstance(v, str)"
        f" else v for v in ({items},)], default=str)"
    )


def values_of(names: Sequence[str], reply: Mapping[str, Any]) -> dict[str, Any]:
    """The named values from the kernel's answer to `values_expression` (a user
    expression's result); SqlCellError if the kernel could not evaluate it."""
    if reply.get("status") != "ok":
        raise SqlCellError(
            reply.get("ename", "Error"),
            f"could not read the SQL's parameters: {reply.get('evalue', '')}",
        )
    text = ast.literal_eval(reply["data"]["text/plain"])
    values = json.loads(text)
    bound: dict[str, Any] = {}
    for name, value in zip(names, values, strict=True):
        if value is not None and not isinstance(value, bool | int | float | str):
            raise SqlCellError(
                "TypeError",
                f"{{{{ {name} }}}} is a {type(value).__name__}; placeholders take None, a"
                " bool, a number or a string",
            )
        bound[name] = value
    return bound


@dataclass(frozen=True)
class QueryResult:
    rows: int
    columns: int
    truncated: bool
    seconds: float


def run_query(
    connection: Mapping[str, Any],
    sql: str,
    values: Mapping[str, Any],
    *,
    row_limit: int,
    path: str,
    interrupt: QueryInterrupt,
    server_time_limit: float | None = None,
) -> QueryResult:
    """Run `sql` on the resolved `connection` and write at most `row_limit` rows to the
    Parquet file `path`. Raises SqlCellError (with the database's message) on failure, and
    QueryInterrupted if `interrupt` stopped the query.

    `server_time_limit` (seconds) is also set on the PostgreSQL or MySQL session, where the
    server can enforce it: it ends the query even if this process dies mid-query. Where
    the server cannot take it, the query runs without.
    """
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    secrets = [str(v) for k, v in connection["details"].items() if k == "password" and v]
    started = time.monotonic()
    try:
        if connection["type"] == "duckdb":
            table, truncated = _run_duckdb(connection["details"], sql, values, row_limit, interrupt)
        else:
            table, truncated = _run_sqlalchemy(
                connection, sql, values, row_limit, interrupt, server_time_limit
            )
    except (SqlCellError, QueryInterrupted):
        raise
    except (sa.exc.SQLAlchemyError, duckdb.Error) as exc:
        if interrupt.requested:
            # The driver's own words for it vary (QueryCanceled, error 1317, "interrupted").
            raise QueryInterrupted from None
        if isinstance(exc, sa.exc.DBAPIError):
            orig = exc.orig
            raise SqlCellError(type(orig).__name__, _scrubbed(str(orig), secrets)) from None
        raise SqlCellError(type(exc).__name__, _scrubbed(_without_sql(exc), secrets)) from None
    except pa.ArrowException as exc:
        raise SqlCellError(type(exc).__name__, _scrubbed(str(exc), secrets)) from None
    seconds = time.monotonic() - started
    pq.write_table(table, path)
    return QueryResult(
        rows=table.num_rows, columns=table.num_columns, truncated=truncated, seconds=seconds
    )


def load_code(
    output: str, path: str, result: QueryResult, row_limit: int, note: str | None = None
) -> str:
    """The Python the kernel runs in the SQL cell's place: read the result, show it, with
    `note` (where the result came from, say) printed above it."""
    lines = [f"{output} = __import__('pandas').read_parquet({path!r})"]
    if note is not None:
        lines.append(f"print({note!r})")
    if result.truncated:
        note = f"Result truncated to the first {row_limit} rows (the SQL row limit)"
        lines.append(f"print({note!r}, file=__import__('sys').stderr)")
    lines.append(output)
    return "\n".join(lines)


def _without_sql(exc: Exception) -> str:
    # SQLAlchemy's own messages carry the statement and its bound values: drop them.
    return str(exc).split("\n[SQL:", 1)[0]


def _scrubbed(message: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        message = message.replace(secret, "***")
    return message


def _escaped(sql: str, names: Sequence[str]) -> str:
    """`sql` for SQLAlchemy's text(): its own colons escaped (so `::int` and `':x'` stay
    as written), and each placeholder turned into a bind parameter."""
    escaped = sql.replace(":", "\\:")
    return PLACEHOLDER.sub(lambda match: f":{match.group(1)}", escaped)


def _engine_url(connection: Mapping[str, Any]) -> tuple[URL, dict[str, Any]]:
    details = connection["details"]
    kind = connection["type"]
    if kind == "sqlite":
        return URL.create("sqlite", database=details["path"]), {}
    if kind in ("postgres", "mysql"):
        driver = "postgresql+psycopg" if kind == "postgres" else "mysql+pymysql"
        url = URL.create(
            driver,
            username=details.get("username"),
            password=details.get("password") or None,
            host=details.get("hostname"),
            port=details.get("port"),
            database=details.get("database"),
        )
        return url, {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    raise SqlCellError("UnsupportedConnection", f"SQL cells cannot query {kind} connections")


def _run_sqlalchemy(
    connection: Mapping[str, Any],
    sql: str,
    values: Mapping[str, Any],
    row_limit: int,
    interrupt: QueryInterrupt,
    server_time_limit: float | None,
) -> tuple[pa.Table, bool]:
    import pyarrow as pa

    url, connect_args = _engine_url(connection)
    # One connection per connect, no pool: the engine lives only as long as the query (a
    # MySQL interrupt connects a second time, to kill the first connection's query).
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            if server_time_limit is not None:
                _limit_on_server(conn, server_time_limit)
            with interrupt.stoppable(_stopper(engine, conn)):
                result = conn.execute(sa.text(_escaped(sql, placeholders(sql))), dict(values))
                if not result.returns_rows:
                    conn.commit()
                    return pa.table({}), False
                columns = list(result.keys())
                rows = result.fetchmany(row_limit + 1)
                result.close()
                conn.commit()
    finally:
        engine.dispose()
    truncated = len(rows) > row_limit
    rows = rows[:row_limit]
    data = {name: [row[i] for row in rows] for i, name in enumerate(_unique(columns))}
    return pa.table(data), truncated


def _stopper(engine: sa.Engine, conn: sa.Connection) -> Callable[[], None]:
    """How to stop `conn`'s running statement from another thread, with the driver's own
    means. Each is harmless when no statement runs."""
    import psycopg

    raw = conn.connection.dbapi_connection
    name = engine.dialect.name
    if name == "postgresql":
        # A cancel request on a connection of its own, as psql's Ctrl-C sends.
        pg = cast(psycopg.Connection[Any], raw)
        return lambda: pg.cancel_safe(timeout=CANCEL_TIMEOUT_SECONDS)
    if name == "mysql":
        # MySQL's protocol has no cancel request: another session kills the statement
        # (the same user may kill its own sessions' statements without privileges).
        session = int(conn.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one())
        conn.commit()

        def kill() -> None:
            with engine.connect() as killer:
                killer.exec_driver_sql(f"KILL QUERY {session}")

        return kill
    if name == "sqlite":
        return cast(sqlite3.Connection, raw).interrupt
    raise SqlCellError("UnsupportedConnection", f"SQL cells cannot stop {name} queries")


def _limit_on_server(conn: sa.Connection, seconds: float) -> None:
    """Have the server end this session's statements after `seconds`, where it can."""
    name = conn.dialect.name
    if name == "postgresql":
        statement = f"SET statement_timeout = {max(1, round(seconds * 1000))}"
    elif name == "mysql":
        server = str(conn.exec_driver_sql("SELECT VERSION()").scalar_one())
        if "mariadb" in server.lower():
            statement = f"SET SESSION max_statement_time = {max(1.0, seconds):.3f}"
        else:
            # MySQL's own limit, in milliseconds, bounds SELECT statements only.
            statement = f"SET SESSION max_execution_time = {max(1, round(seconds * 1000))}"
    else:
        return
    try:
        conn.exec_driver_sql(statement)
        conn.commit()
    except sa.exc.DBAPIError:
        # A server speaking the protocol without the setting (a pooler, a look-alike
        # database): the runner's own interrupt still applies.
        conn.rollback()


def _run_duckdb(
    details: Mapping[str, Any],
    sql: str,
    values: Mapping[str, Any],
    row_limit: int,
    interrupt: QueryInterrupt,
) -> tuple[pa.Table, bool]:
    import duckdb
    import pyarrow as pa

    # DuckDB's named parameters are `$name`; its own API returns Arrow directly.
    query = PLACEHOLDER.sub(lambda match: f"${match.group(1)}", sql)
    with duckdb.connect(details["path"]) as conn, interrupt.stoppable(conn.interrupt):
        relation = conn.sql(query, params=dict(values) if values else None)
        if relation is None:
            return pa.table({}), False
        reader = relation.to_arrow_reader(min(row_limit + 1, 100_000))
        batches = []
        count = 0
        for batch in reader:
            batches.append(batch)
            count += batch.num_rows
            if count > row_limit:
                break
        table = pa.Table.from_batches(batches, schema=reader.schema)
    truncated = table.num_rows > row_limit
    return table.slice(0, row_limit), truncated


def _unique(columns: Sequence[str]) -> list[str]:
    """Column names made unique (`id`, `id_1`, …): a DataFrame from Parquet needs that."""
    seen: dict[str, int] = {}
    names = []
    for name in columns:
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(name if count == 0 else f"{name}_{count}")
    return names
