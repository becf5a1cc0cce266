"""SQL cells on real kernels and real databases: SQLite and DuckDB files, and the local
PostgreSQL and MariaDB/MySQL servers (skipped when missing, a failure under CI=true)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pymysql
import pytest
import sqlalchemy as sa
from tests.conftest import service_missing

from runyard.kernel.runner import KernelJob, KernelResult, RunOutcome, run_notebook

pytestmark = pytest.mark.kernel

PASSWORD = f"pw-{uuid.uuid4().hex}"


def _unavailable(what: str, problem: str) -> None:
    service_missing(f"{what} is not reachable: {problem}")


def sql(query: str, connection: str = "db", output: str = "df") -> dict[str, Any]:
    return {
        "cell_type": "code",
        "id": f"sql-{uuid.uuid4().hex[:8]}",
        "metadata": {"runyard": {"sql": {"connection": connection, "output": output}}},
        "source": query,
        "execution_count": None,
        "outputs": [],
    }


def text_of(result: KernelResult, index: int) -> str:
    cell = result.executed_notebook["cells"][index]
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
        elif output["output_type"] == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
    return "".join(parts)


def run(
    notebook: dict[str, Any],
    connection: dict[str, Any],
    parameters: dict[str, Any] | None = None,
    **job: Any,
) -> KernelResult:
    return run_notebook(
        KernelJob(notebook, parameters or {}, connections={"db": connection}, **job)
    )


@pytest.fixture
def sqlite_connection(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("create table orders (id integer, customer text, total real)")
        db.executemany(
            "insert into orders values (?, ?, ?)",
            [(1, "ann", 10.5), (2, "bob", 20.0), (3, "ann", 4.5)],
        )
    return {"id": "c-sqlite", "name": "shop", "type": "sqlite", "details": {"path": str(path)}}


def test_a_sqlite_query_becomes_a_dataframe_a_later_cell_uses(
    make_notebook: Callable[..., dict[str, Any]], sqlite_connection: dict[str, Any]
) -> None:
    notebook = make_notebook(
        sql("select customer, sum(total) as spent from orders group by customer order by 1"),
        "print(type(df).__name__, df.to_dict('records'))",
    )

    result = run(notebook, sqlite_connection)

    assert result.outcome is RunOutcome.COMPLETED, result.reason
    assert text_of(result, 1) == (
        "DataFrame [{'customer': 'ann', 'spent': 15.0}, {'customer': 'bob', 'spent': 20.0}]\n"
    )
    # The cell shows its result and keeps its SQL as source.
    shown = result.executed_notebook["cells"][0]
    assert "ann" in text_of(result, 0)
    assert shown["source"].startswith("select customer")
    assert "<table" in result.html
    assert "cell 0 queried sqlite connection c-sqlite: 2 rows, 2 columns" in result.log


def test_placeholders_bind_parameters_and_earlier_variables(
    make_notebook: Callable[..., dict[str, Any]],
    cell: Any,
    sqlite_connection: dict[str, Any],
) -> None:
    notebook = make_notebook(
        cell("customer = 'nobody'\nminimum = 0", "parameters"),
        "import numpy\nfloor = numpy.float64(5)",
        sql(
            "select id, ':not_a_param' as literal from orders"
            " where customer = {{ customer }} and total > {{floor}} and total > {{ minimum }}"
        ),
        "print(df['id'].tolist(), df['literal'].tolist())",
    )
    injection = "ann' or '1'='1"

    found = run(notebook, sqlite_connection, {"customer": "ann"})
    injected = run(notebook, sqlite_connection, {"customer": injection})

    assert found.outcome is RunOutcome.COMPLETED, found.reason
    assert text_of(found, 4) == "[1] [':not_a_param']\n"
    # A value is bound, never spliced into the SQL: the quote matches nothing.
    assert text_of(injected, 4) == "[] []\n"
    assert "ann" not in found.log.split("queried", 1)[1].split("\n", 1)[0]


def test_a_placeholder_naming_no_variable_fails_the_cell(
    make_notebook: Callable[..., dict[str, Any]], sqlite_connection: dict[str, Any]
) -> None:
    result = run(make_notebook(sql("select {{ missing }}")), sqlite_connection)

    assert result.outcome is RunOutcome.ERRORED
    assert result.error is not None and result.error.ename == "NameError"
    assert "missing" in text_of(result, 0)


def test_a_duckdb_query_becomes_a_dataframe(
    make_notebook: Callable[..., dict[str, Any]], tmp_path: Path, cell: Any
) -> None:
    path = tmp_path / "lake.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute("create table events as select range as n from range(10)")
    connection = {"id": "c-duck", "name": "lake", "type": "duckdb", "details": {"path": str(path)}}
    notebook = make_notebook(
        cell("low = 6", "parameters"),
        sql("select n, n * n as square from events where n >= {{ low }} order by n", "db", "sq"),
        "print(sq['square'].tolist())",
    )

    result = run(notebook, connection, {"low": 7})

    assert result.outcome is RunOutcome.COMPLETED, result.reason
    assert text_of(result, 3) == "[49, 64, 81]\n"


def test_rows_beyond_the_limit_are_dropped_and_said_so(
    make_notebook: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    path = tmp_path / "lake.duckdb"
    connection = {"id": "c-duck", "name": "lake", "type": "duckdb", "details": {"path": str(path)}}
    notebook = make_notebook(sql("select range as n from range(1000)"), "print(len(df))")

    result = run(notebook, connection, sql_row_limit=25)

    assert result.outcome is RunOutcome.COMPLETED, result.reason
    assert text_of(result, 1) == "25\n"
    assert "truncated to the first 25 rows" in text_of(result, 0)
    assert "25 rows (truncated)" in result.log


def test_a_sql_error_errors_the_run_with_the_database_message(
    make_notebook: Callable[..., dict[str, Any]], sqlite_connection: dict[str, Any]
) -> None:
    notebook = make_notebook(sql("select nope from orders"), "print('never')")

    result = run(notebook, sqlite_connection)

    assert result.outcome is RunOutcome.ERRORED
    assert result.error is not None
    assert result.error.ename == "OperationalError"
    assert "no such column: nope" in text_of(result, 0)
    assert text_of(result, 1) == ""


@pytest.fixture
def postgres_table() -> Iterator[tuple[dict[str, Any], str]]:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as error:
        engine.dispose()
        _unavailable("PostgreSQL at 127.0.0.1:5432 (database test)", str(error).splitlines()[0])
    table = f"sql_cell_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"create table {table} (id int, label text, amount numeric(8,2))"))
        conn.execute(sa.text(f"insert into {table} values (1, 'a', 1.25), (2, 'b', 2.50)"))
    connection = {
        "id": "c-pg",
        "name": "warehouse",
        "type": "postgres",
        # The server trusts local connections: the password is sent and ignored.
        "details": {
            "hostname": "127.0.0.1",
            "port": 5432,
            "database": "test",
            "username": "postgres",
            "password": PASSWORD,
        },
    }
    try:
        yield connection, table
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"drop table if exists {table}"))
        engine.dispose()


def test_a_postgres_query_keeps_the_password_out_of_everything(
    make_notebook: Callable[..., dict[str, Any]],
    cell: Any,
    postgres_table: tuple[dict[str, Any], str],
) -> None:
    connection, table = postgres_table
    notebook = make_notebook(
        cell("wanted = 0", "parameters"),
        sql(f"select id, label, amount, 1::int as one from {table} where id = {{{{ wanted }}}}"),
        "import os\nprint(df.to_dict('records'))\nprint(sorted(os.environ.values()))",
    )

    result = run(notebook, connection, {"wanted": 2})

    assert result.outcome is RunOutcome.COMPLETED, result.reason
    assert "'label': 'b'" in text_of(result, 3)
    everything = json.dumps(result.executed_notebook) + result.html + result.app_html + result.log
    assert PASSWORD not in everything
    assert "c-pg" in result.log


@pytest.fixture
def mysql_table() -> Iterator[tuple[dict[str, Any], str]]:
    try:
        db = pymysql.connect(
            host="127.0.0.1",
            port=3306,
            user="root",
            password="",
            database="test",
            connect_timeout=3,
        )
    except pymysql.err.MySQLError as error:
        _unavailable("MySQL/MariaDB at 127.0.0.1:3306 (database test)", str(error))
    table = f"sql_cell_{uuid.uuid4().hex[:10]}"
    with db.cursor() as cursor:
        cursor.execute(f"create table {table} (id int, label varchar(20))")
        cursor.execute(f"insert into {table} values (1, 'x'), (2, 'y'), (3, 'z')")
    db.commit()
    connection = {
        "id": "c-my",
        "name": "shop",
        "type": "mysql",
        "details": {
            "hostname": "127.0.0.1",
            "port": 3306,
            "database": "test",
            "username": "root",
            "password": "",
        },
    }
    try:
        yield connection, table
    finally:
        with db.cursor() as cursor:
            cursor.execute(f"drop table if exists {table}")
        db.commit()
        db.close()


def test_a_mysql_query_becomes_a_dataframe(
    make_notebook: Callable[..., dict[str, Any]],
    cell: Any,
    mysql_table: tuple[dict[str, Any], str],
) -> None:
    connection, table = mysql_table
    notebook = make_notebook(
        cell("above = 0", "parameters"),
        sql(f"select label from {table} where id > {{{{ above }}}} order by id"),
        "print(df['label'].tolist())",
    )

    result = run(notebook, connection, {"above": 1})

    assert result.outcome is RunOutcome.COMPLETED, result.reason
    assert text_of(result, 3) == "['y', 'z']\n"


def test_a_mysql_error_carries_the_server_message(
    make_notebook: Callable[..., dict[str, Any]], mysql_table: tuple[dict[str, Any], str]
) -> None:
    connection, table = mysql_table

    result = run(make_notebook(sql(f"select nope from {table}")), connection)

    assert result.outcome is RunOutcome.ERRORED
    assert "Unknown column 'nope'" in text_of(result, 0)
