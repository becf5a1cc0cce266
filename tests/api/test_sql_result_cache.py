"""The SQL result cache behind RunProject's `useCachedSqlResults`, end to end: real kernels,
real data connections whose data changes between runs, on SQLite and PostgreSQL stores."""

from __future__ import annotations

import re
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from runyard.store.sql_cache import SqlResultRow
from tests.api.sharing_cast import Person, person
from tests.api.test_sql_cells import artifact, run_project, sqlite_connection, with_sql
from tests.cast import notebook, wait_for_end

pytestmark = pytest.mark.kernel

QUERY = "select amount from sales where region = {{ region }}"
SHOW = "print('amount', int(df['amount'][0]))"


@pytest.fixture
def settings_values(settings_values: dict[str, Any]) -> dict[str, Any]:
    """These runs take their kernels from the pool, as with the default settings."""
    return {**settings_values, "kernel_pool_size": 1}


def sales_notebook(connection: dict[str, Any], *before: str) -> dict[str, Any]:
    nb = notebook(*before, SHOW, parameters="region = 'south'")
    with_sql(nb, QUERY, connection["id"])
    return nb


def set_amount(connection: dict[str, Any], amount: int) -> None:
    """Change the data behind the connection (south's amount; it starts at 7)."""
    path = connection["connectionDetails"]["sqlite"]["path"]
    with sqlite3.connect(path) as db:
        db.execute("update sales set amount = ? where region = 'south'", (amount,))


def rerun(
    client: TestClient, project_id: str, headers: dict[str, str] | None = None, **body: Any
) -> dict[str, Any]:
    response = client.post(f"/api/v1/projects/{project_id}/runs", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return wait_for_end(client, project_id, response.json()["runId"])


def outputs(client: TestClient, project_id: str, run: dict[str, Any]) -> tuple[str, str]:
    """The run's executed notebook and its log."""
    return artifact(client, project_id, run, "notebook"), artifact(client, project_id, run, "log")


def age_results(client: TestClient, connection_id: str, seconds: float) -> None:
    """Make the connection's kept results `seconds` older, through the store."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.db.write() as session:
        rows = session.scalars(
            select(SqlResultRow).where(SqlResultRow.connection_id == connection_id)
        ).all()
        assert rows, "no result is kept for the connection"
        for row in rows:
            row.queried_at -= timedelta(seconds=seconds)


def test_a_cached_run_shows_the_old_value_and_says_so_and_an_uncached_run_the_new_one(
    client: TestClient, tmp_path: Path
) -> None:
    connection = sqlite_connection(client, tmp_path)
    project_id, first = run_project(client, sales_notebook(connection))
    assert first["status"] == "COMPLETED", first
    executed, log = outputs(client, project_id, first)
    assert "amount 7" in executed
    assert "result kept in the SQL result cache" in log

    set_amount(connection, 70)
    cached = rerun(client, project_id)

    assert cached["status"] == "COMPLETED", cached
    executed, log = outputs(client, project_id, cached)
    assert "amount 7" in executed and "amount 70" not in executed
    assert "Cached result of data connection" in executed and " ago)" in executed
    assert "reused a cached result of sqlite connection" in log
    assert "(cache lifetime 300s)" in log

    fresh = rerun(client, project_id, useCachedSqlResults=False)

    assert fresh["status"] == "COMPLETED", fresh
    executed, log = outputs(client, project_id, fresh)
    assert "amount 70" in executed and "Cached result" not in executed
    assert "(useCachedSqlResults is false)" in log and "reused a cached result" not in log

    # The uncached run refreshed the kept result: the next cached run sees 70 too.
    after = rerun(client, project_id)
    executed, log = outputs(client, project_id, after)
    assert "amount 70" in executed and "reused a cached result" in log


def test_other_bound_values_are_another_query(client: TestClient, tmp_path: Path) -> None:
    connection = sqlite_connection(client, tmp_path)
    project_id, _south = run_project(client, sales_notebook(connection))

    north = rerun(client, project_id, inputParams={"region": "north"})

    executed, log = outputs(client, project_id, north)
    assert "amount 5" in executed and "reused a cached result" not in log


def test_update_cache_true_queries_afresh(client: TestClient, tmp_path: Path) -> None:
    connection = sqlite_connection(client, tmp_path)
    project_id, _first = run_project(client, sales_notebook(connection))
    set_amount(connection, 71)

    run = rerun(client, project_id, updateCache=True)

    executed, _log = outputs(client, project_id, run)
    assert "amount 71" in executed


def test_a_result_older_than_the_connections_lifetime_is_not_reused(
    client: TestClient, tmp_path: Path
) -> None:
    connection = sqlite_connection(client, tmp_path, cacheLifetimeSeconds=3600)
    project_id, _first = run_project(client, sales_notebook(connection))
    set_amount(connection, 72)
    # Aged through the store, with room to spare for the runs' own time.
    age_results(client, connection["id"], 3000)

    within = rerun(client, project_id)
    executed, log = outputs(client, project_id, within)
    assert "amount 7" in executed and "(cache lifetime 3600s)" in log
    assert re.search(r"5\d min \d+s ago", log) and re.search(r"\(5\d min \d+s ago\)", executed)

    age_results(client, connection["id"], 600)
    expired = rerun(client, project_id)

    executed, log = outputs(client, project_id, expired)
    assert "amount 72" in executed and "reused a cached result" not in log


def test_a_lifetime_of_zero_keeps_nothing(client: TestClient, tmp_path: Path) -> None:
    connection = sqlite_connection(client, tmp_path, cacheLifetimeSeconds=0)
    project_id, first = run_project(client, sales_notebook(connection))
    _executed, log = outputs(client, project_id, first)
    assert "result not kept: the data connection's cache lifetime is 0" in log
    set_amount(connection, 73)

    second = rerun(client, project_id)

    executed, _log = outputs(client, project_id, second)
    assert "amount 73" in executed


@pytest.mark.parametrize("members", ["VIEW_RESULTS", "NONE"])
def test_a_requester_without_query_access_gets_no_cached_rows(
    client: TestClient, tmp_path: Path, members: str
) -> None:
    sharing = {"workspace": {"public": "NONE", "guests": "NONE", "members": members}}
    connection = sqlite_connection(client, tmp_path, sharing=sharing)
    set_amount(connection, 4242)
    _admins_project, admins_run = run_project(client, sales_notebook(connection))
    assert admins_run["status"] == "COMPLETED", admins_run
    editor = person(client, f"ed{uuid.uuid4().hex[:6]}")

    project_id, run = run_project(client, sales_notebook(connection), editor.headers)

    assert run["status"] == "ERRORED"
    assert "may not query data connection" in str(run)
    executed = client.get(
        f"/api/v1/projects/{project_id}/runs/{run['runId']}/notebook", headers=editor.headers
    )
    assert "4242" not in executed.text


def published(client: TestClient, nb: dict[str, Any], headers: dict[str, str]) -> str:
    created = client.post("/api/v1/projects", json={"title": "Gated"}, headers=headers)
    assert created.status_code == 201, created.text
    project_id: str = created.json()["id"]
    put = client.put(f"/api/v1/projects/{project_id}/notebook", json=nb, headers=headers)
    assert put.status_code == 200, put.text
    done = client.post(f"/api/v1/projects/{project_id}/publish", headers=headers)
    assert done.status_code == 201, done.text
    return project_id


@contextmanager
def gate() -> Iterator[tuple[str, socket.socket]]:
    """A cell that connects to the test and waits there until the test sends a byte, and
    the test's end of it."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(60)
        port = server.getsockname()[1]
        cell = (
            "import socket\n"
            f"with socket.create_connection(('127.0.0.1', {port})) as s:\n"
            "    s.recv(1)"
        )
        yield cell, server


def test_access_is_checked_again_before_a_cached_result_is_reused(
    client: TestClient, tmp_path: Path
) -> None:
    """The claim checks the requester's access; the cache checks it again before it hands
    a kept result to a SQL cell: QUERY taken away in between means no cached rows."""
    connection = sqlite_connection(client, tmp_path)
    set_amount(connection, 4343)
    _admins_project, admins_run = run_project(client, sales_notebook(connection))
    assert admins_run["status"] == "COMPLETED", admins_run
    editor: Person = person(client, f"ed{uuid.uuid4().hex[:6]}")
    with gate() as (wait, server):
        project_id = published(client, sales_notebook(connection, wait), editor.headers)
        response = client.post(f"/api/v1/projects/{project_id}/runs", headers=editor.headers)
        assert response.status_code == 201, response.text
        kernel, _address = server.accept()  # the gate cell runs: the claim is behind it
        with kernel:
            revoked = client.patch(
                f"/api/v1/data-connections/{connection['id']}",
                json={"sharing": {"workspace": {"members": "VIEW_RESULTS"}}},
            )
            assert revoked.status_code == 201, revoked.text
            kernel.sendall(b"x")

    run = wait_for_end(client, project_id, response.json()["runId"])

    assert run["status"] == "ERRORED", run
    assert "no cached result is shown" in str(run)
    executed = artifact(client, project_id, run, "notebook")
    assert "4343" not in executed
