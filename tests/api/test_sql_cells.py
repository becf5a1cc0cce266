"""SQL cells end to end: a connection created through the API, a published notebook with
SQL cells, a triggered run; permissions checked against the run's requester at claim time."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.sharing_cast import person
from tests.cast import new_connection, new_group, notebook, postgres_details, wait_for_end
from tests.conftest import PG_ADMIN_URL, _pg_available, service_missing

pytestmark = pytest.mark.kernel


@pytest.fixture
def settings_values(settings_values: dict[str, Any]) -> dict[str, Any]:
    """These runs take their kernels from the pool, as with the default settings."""
    return {**settings_values, "kernel_pool_size": 1}


def with_sql(nb: dict[str, Any], query: str, connection: str, output: str = "df") -> None:
    """Insert a SQL cell before the notebook's last cell."""
    nb["cells"].insert(
        len(nb["cells"]) - 1,
        {
            "cell_type": "code",
            "metadata": {"runyard": {"sql": {"connection": connection, "output": output}}},
            "source": query,
            "outputs": [],
            "execution_count": None,
        },
    )


def sqlite_connection(client: TestClient, tmp_path: Path, **body: Any) -> dict[str, Any]:
    path = tmp_path / f"{uuid.uuid4().hex}.db"
    with sqlite3.connect(path) as db:
        db.execute("create table sales (region text, amount integer)")
        db.executemany("insert into sales values (?, ?)", [("north", 5), ("south", 7)])
    return new_connection(
        client,
        name=f"shop-{uuid.uuid4().hex[:6]}",
        type="sqlite",
        connectionDetails={"sqlite": {"path": str(path)}},
        **body,
    )


def run_project(
    client: TestClient, nb: dict[str, Any], headers: dict[str, str] | None = None, **body: Any
) -> tuple[str, dict[str, Any]]:
    created = client.post("/api/v1/projects", json={"title": "SQL"}, headers=headers)
    assert created.status_code == 201, created.text
    project_id: str = created.json()["id"]
    put = client.put(f"/api/v1/projects/{project_id}/notebook", json=nb, headers=headers)
    assert put.status_code == 200, put.text
    published = client.post(f"/api/v1/projects/{project_id}/publish", headers=headers)
    assert published.status_code == 201, published.text
    response = client.post(f"/api/v1/projects/{project_id}/runs", json=body, headers=headers)
    assert response.status_code == 201, response.text
    run_id = response.json()["runId"]
    return project_id, wait_for_end(client, project_id, run_id)


def artifact(client: TestClient, project_id: str, run: dict[str, Any], name: str) -> str:
    response = client.get(f"/api/v1/projects/{project_id}/runs/{run['runId']}/{name}")
    assert response.status_code == 200, response.text
    return response.text


def test_a_sql_cell_queries_a_connection_made_through_the_api(
    client: TestClient, tmp_path: Path
) -> None:
    connection = sqlite_connection(client, tmp_path)
    nb = notebook("print(df.to_dict('records'))", parameters="region = 'none'")
    with_sql(nb, "select amount from sales where region = {{ region }}", connection["name"])

    project_id, run = run_project(client, nb, inputParams={"region": "south"})

    assert run["status"] == "COMPLETED", run
    executed = artifact(client, project_id, run, "notebook")
    assert "[{'amount': 7}]" in executed


def test_a_sql_error_errors_the_run_with_the_database_message(
    client: TestClient, tmp_path: Path
) -> None:
    connection = sqlite_connection(client, tmp_path)
    nb = notebook("print('after')")
    with_sql(nb, "select nope from sales", connection["id"])

    project_id, run = run_project(client, nb)

    assert run["status"] == "ERRORED"
    assert "no such column: nope" in artifact(client, project_id, run, "notebook")


def test_a_missing_connection_errors_the_run_naming_cell_and_connection(
    client: TestClient,
) -> None:
    nb = notebook("print('after')")
    with_sql(nb, "select 1", "no-such-connection")

    _project_id, run = run_project(client, nb)

    assert run["status"] == "ERRORED"
    assert "Cell 0 (SQL)" in str(run) and "'no-such-connection'" in str(run)


@pytest.mark.parametrize("members", ["VIEW_RESULTS", "NONE"])
def test_a_requester_without_query_access_gets_an_errored_run(
    client: TestClient, tmp_path: Path, members: str
) -> None:
    sharing = {"workspace": {"public": "NONE", "guests": "NONE", "members": members}}
    connection = sqlite_connection(client, tmp_path, sharing=sharing)
    editor = person(client, f"ed{uuid.uuid4().hex[:6]}")
    nb = notebook("print(df)")
    with_sql(nb, "select 1 as one", connection["name"])

    _project_id, run = run_project(client, nb, editor.headers)

    assert run["status"] == "ERRORED"
    assert "may not query data connection" in str(run), run
    assert connection["name"] in str(run)


def test_a_group_grant_of_query_lets_a_member_run_sql(client: TestClient, tmp_path: Path) -> None:
    editor = person(client, f"ed{uuid.uuid4().hex[:6]}")
    analysts = new_group(client, f"analysts-{uuid.uuid4().hex[:6]}", [editor.id])
    sharing = {
        "workspace": {"public": "NONE", "guests": "NONE", "members": "VIEW_RESULTS"},
        "groups": [{"group": {"id": analysts}, "access": "QUERY"}],
    }
    connection = sqlite_connection(client, tmp_path, sharing=sharing)
    nb = notebook("print(int(df['total'][0]))")
    with_sql(nb, "select sum(amount) as total from sales", connection["id"])

    project_id, run = run_project(client, nb, editor.headers)

    assert run["status"] == "COMPLETED", run
    assert "12" in artifact(client, project_id, run, "notebook")


def test_a_postgres_password_appears_in_no_artifact(client: TestClient) -> None:
    problem = _pg_available()
    if problem is not None:
        service_missing(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {problem}")
    password = f"pg-{uuid.uuid4().hex}"
    details = postgres_details(password=password)
    details["postgres"].update(hostname="127.0.0.1", port=5432, database="test")
    details["postgres"].update(username="postgres")
    connection = new_connection(
        client, name=f"pg-{uuid.uuid4().hex[:6]}", connectionDetails=details
    )
    nb = notebook("import os\nprint(df['one'][0], sorted(os.environ.values()))")
    with_sql(nb, "select 1::int as one", connection["name"])

    project_id, run = run_project(client, nb)

    assert run["status"] == "COMPLETED", run
    for name in ("notebook", "log"):
        assert password not in artifact(client, project_id, run, name)
