"""SQL cells on real kernels and real databases: SQLite and DuckDB files, and the local
PostgreSQL and MariaDB/MySQL servers (skipped when missing, a failure under CI=true)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pymysql
import pytest
import sqlalchemy as sa
from tests.conftest import service_missing

from runyard.kernel.artifacts import render_pages
from runyard.kernel.runner import (
    KernelControl,
    KernelJob,
    KernelResult,
    RunOutcome,
    run_notebook,
)

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
    assert "<table" in render_pages(result.executed_notebook).notebook
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
def postgres_server() -> Iterator[tuple[dict[str, Any], sa.Engine]]:
    """A connection to the local PostgreSQL's `test` database, and an engine to inspect it."""
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as error:
        engine.dispose()
        _unavailable("PostgreSQL at 127.0.0.1:5432 (database test)", str(error).splitlines()[0])
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
        yield connection, engine
    finally:
        engine.dispose()


@pytest.fixture
def postgres_table(
    postgres_server: tuple[dict[str, Any], sa.Engine],
) -> Iterator[tuple[dict[str, Any], str]]:
    connection, engine = postgres_server
    table = f"sql_cell_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"create table {table} (id int, label text, amount numeric(8,2))"))
        conn.execute(sa.text(f"insert into {table} values (1, 'a', 1.25), (2, 'b', 2.50)"))
    try:
        yield connection, table
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"drop table if exists {table}"))


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
    pages = render_pages(result.executed_notebook)
    everything = json.dumps(result.executed_notebook) + pages.notebook + pages.app + result.log
    assert PASSWORD not in everything
    assert "c-pg" in result.log


def _mysql() -> pymysql.connections.Connection:
    try:
        return pymysql.connect(
            host="127.0.0.1",
            port=3306,
            user="root",
            password="",
            database="test",
            connect_timeout=3,
            autocommit=True,
        )
    except pymysql.err.MySQLError as error:
        _unavailable("MySQL/MariaDB at 127.0.0.1:3306 (database test)", str(error))


MYSQL_CONNECTION = {
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


@pytest.fixture
def mysql_table() -> Iterator[tuple[dict[str, Any], str]]:
    db = _mysql()
    table = f"sql_cell_{uuid.uuid4().hex[:10]}"
    with db.cursor() as cursor:
        cursor.execute(f"create table {table} (id int, label varchar(20))")
        cursor.execute(f"insert into {table} values (1, 'x'), (2, 'y'), (3, 'z')")
    try:
        yield MYSQL_CONNECTION, table
    finally:
        with db.cursor() as cursor:
            cursor.execute(f"drop table if exists {table}")
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


# -- stopping a query that runs --------------------------------------------------------------


@dataclass(frozen=True)
class LongQuery:
    """A query that would run far longer than any test, and a way to see it running."""

    connection: dict[str, Any]
    sql: str
    # Whether the query runs right now, as the database shows it (SQLite: its lock on the
    # file; DuckDB, which shows nothing, runs inside the runner: the query's thread).
    running: Callable[[], bool]

    def gone(self) -> bool:
        """Nothing of the query is left: not on the database, not in the runner (this
        process)."""
        return not self.running() and not _query_thread_alive()


def _query_thread_alive() -> bool:
    return any(t.name == "runyard-sql-query" and t.is_alive() for t in threading.enumerate())


def _sqlite_long_query(tmp_path: Path) -> LongQuery:
    path = tmp_path / "slow.db"
    with sqlite3.connect(path) as db:
        db.execute("create table seed (n integer)")
        db.execute("insert into seed values (1)")
    db.close()

    def locked() -> bool:
        # The query reads `seed`, so it holds a shared lock on the file while it runs.
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("begin exclusive")
            probe.execute("rollback")
            return False
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            return True
        finally:
            probe.close()

    return LongQuery(
        {"id": "c-slow", "name": "slow", "type": "sqlite", "details": {"path": str(path)}},
        # Counts to 10^15 one row at a time: centuries.
        "with recursive r(n) as (select n from seed union all select n + 1 from r"
        " where n < 1000000000000000) select count(*) from r",
        locked,
    )


def _duckdb_long_query(tmp_path: Path) -> LongQuery:
    path = tmp_path / "slow.duckdb"
    return LongQuery(
        {"id": "c-slow", "name": "slow", "type": "duckdb", "details": {"path": str(path)}},
        # 10^18 rows to sum.
        "select sum(a.range + b.range) from range(1000000000) a, range(1000000000) b",
        _query_thread_alive,
    )


def _postgres_long_query(server: tuple[dict[str, Any], sa.Engine]) -> LongQuery:
    connection, engine = server
    marker = f"runyard-test-{uuid.uuid4().hex}"

    def running() -> bool:
        with engine.connect() as conn:
            # A transaction of its own per look: pg_stat_activity is a snapshot per transaction.
            found = conn.execute(
                sa.text(
                    "select count(*) from pg_stat_activity where state = 'active'"
                    " and pid <> pg_backend_pid() and query like :pattern"
                ),
                {"pattern": f"%{marker}%"},
            ).scalar_one()
        return bool(found)

    return LongQuery(connection, f"select pg_sleep(600), '{marker}' as marker", running)


def _mysql_long_query() -> LongQuery:
    marker = f"runyard-test-{uuid.uuid4().hex}"
    _mysql().close()  # skips the test (or fails it under CI=true) without a server

    def running() -> bool:
        with contextlib.closing(_mysql()) as db, db.cursor() as cursor:
            cursor.execute(
                "select count(*) from information_schema.processlist"
                " where id <> connection_id() and info like %s",
                (f"%{marker}%",),
            )
            (found,) = cursor.fetchone()
        return bool(found)

    return LongQuery(MYSQL_CONNECTION, f"select sleep(600), '{marker}' as marker", running)


@pytest.fixture(params=["sqlite", "duckdb", "postgres", "mysql"])
def long_query(request: pytest.FixtureRequest, tmp_path: Path) -> LongQuery:
    kind = request.param
    if kind == "sqlite":
        return _sqlite_long_query(tmp_path)
    if kind == "duckdb":
        return _duckdb_long_query(tmp_path)
    if kind == "postgres":
        return _postgres_long_query(request.getfixturevalue("postgres_server"))
    return _mysql_long_query()


def eventually(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Wait until `condition()` holds; fail naming `what` if it does not within `seconds`
    (a bound for a stuck test, not a measure of speed)."""
    give_up_at = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < give_up_at, f"still waiting for {what} after {seconds:g}s"
        time.sleep(0.05)


def run_in_thread(job: KernelJob, control: KernelControl) -> Future[KernelResult]:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(run_notebook, job, control)
    pool.shutdown(wait=False)
    return future


def test_a_cancel_stops_the_running_query_and_the_run_ends_killed(
    make_notebook: Callable[..., dict[str, Any]], long_query: LongQuery
) -> None:
    notebook = make_notebook(sql(long_query.sql), "print('never')")
    control = KernelControl()
    job = KernelJob(notebook, {}, connections={"db": long_query.connection})
    future = run_in_thread(job, control)
    eventually(long_query.running, "the query to start")

    control.cancel()
    result = future.result(timeout=120)

    assert (result.outcome, result.reason, result.error) == (RunOutcome.KILLED, "Cancelled", None)
    assert "cell 0 (SQL): the run is stopping; interrupting the query" in result.log
    assert "cell 0 (SQL): the query stopped" in result.log
    assert text_of(result, 1) == ""
    eventually(long_query.gone, "the query to be gone")


# The same stop as a cancel (test above), from the run's deadline: the database servers are
# where a query left behind would show.
@pytest.mark.parametrize("long_query", ["postgres", "mysql"], indirect=True)
def test_the_run_timeout_stops_the_running_query_and_the_run_times_out(
    make_notebook: Callable[..., dict[str, Any]], long_query: LongQuery
) -> None:
    notebook = make_notebook(sql(long_query.sql), "print('never')")

    result = run(notebook, long_query.connection, timeout_seconds=10)

    # The worker records TIMED_OUT as ERRORED with this reason, as for a Python cell.
    assert (result.outcome, result.reason) == (
        RunOutcome.TIMED_OUT,
        "Run exceeded its timeout of 10s",
    )
    assert "cell 0 (SQL): the run is stopping; interrupting the query" in result.log
    assert "cell 0 (SQL): the query stopped" in result.log
    eventually(long_query.gone, "the query to be gone")


def test_a_query_past_its_time_limit_is_stopped_and_fails_its_cell(
    make_notebook: Callable[..., dict[str, Any]], long_query: LongQuery
) -> None:
    connection = long_query.connection
    notebook = make_notebook(sql(long_query.sql), "print('never')")

    result = run(notebook, connection, sql_query_timeout_seconds=1)

    assert result.outcome is RunOutcome.ERRORED
    evalue = (
        f"the query on data connection {connection['name']!r} ({connection['id']}) ran past"
        " the SQL query time limit of 1s and was interrupted"
    )
    assert result.error is not None
    assert (result.error.cell_index, result.error.ename, result.error.evalue) == (
        0,
        "SqlQueryTimeout",
        evalue,
    )
    assert result.reason == f"Cell 0 raised SqlQueryTimeout: {evalue}"
    assert f"SqlQueryTimeout: {evalue}" in text_of(result, 0)
    assert text_of(result, 1) == ""
    assert "cell 0 (SQL): the query reached its time limit of 1s; interrupting it" in result.log
    eventually(long_query.gone, "the query to be gone")


@pytest.mark.parametrize(
    ("server", "setting", "expected"),
    [
        ("postgres_server", "current_setting('statement_timeout')", "90s"),
        ("mysql", "@@max_statement_time", "90.0"),
    ],
)
def test_the_database_server_also_limits_the_query_should_the_runner_die(
    make_notebook: Callable[..., dict[str, Any]],
    request: pytest.FixtureRequest,
    server: str,
    setting: str,
    expected: str,
) -> None:
    if server == "mysql":
        _mysql().close()  # skips the test (or fails it under CI=true) without a server
        connection = MYSQL_CONNECTION
    else:
        connection, _engine = request.getfixturevalue(server)
    notebook = make_notebook(sql(f"select {setting} as setting"), "print(df['setting'][0])")

    # The query's own limit, plus a margin that lets the runner's interrupt come first.
    result = run(notebook, connection, sql_query_timeout_seconds=60)

    assert result.outcome is RunOutcome.COMPLETED, result.reason
    assert float(text_of(result, 1).strip().removesuffix("s")) == float(expected.removesuffix("s"))


def test_a_sql_query_timeout_must_be_positive(make_notebook: Callable[..., dict[str, Any]]) -> None:
    with pytest.raises(ValueError, match="sql_query_timeout_seconds must be positive"):
        KernelJob(make_notebook("1"), {}, sql_query_timeout_seconds=0)
