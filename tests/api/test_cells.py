"""Hex's cells API (/api/v1/cells…) over a project's draft notebook."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cast import new_connection, notebook, published_project, trigger, wait_for_end


def cells_of(client: TestClient, project_id: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/cells", params={"projectId": project_id, **params})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def create(client: TestClient, project_id: str, cell_type: str, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/cells", json={"projectId": project_id, "cellType": cell_type, **body}
    )
    assert response.status_code == 200, response.text
    cell: dict[str, Any] = response.json()
    return cell


def sqlite_connection(client: TestClient, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / f"{uuid.uuid4().hex}.db"
    with sqlite3.connect(path) as db:
        db.execute("create table sales (region text, amount integer)")
        db.executemany("insert into sales values (?, ?)", [("north", 5), ("south", None)])
    return new_connection(
        client,
        name=f"shop-{uuid.uuid4().hex[:6]}",
        type="sqlite",
        connectionDetails={"sqlite": {"path": str(path)}},
    )


@pytest.mark.kernel
def test_a_notebook_edited_only_through_the_cells_api_publishes_and_runs(
    client: TestClient, tmp_path: Path
) -> None:
    project_id = client.post("/api/v1/projects", json={"title": "Cells"}).json()["id"]
    assert cells_of(client, project_id) == {
        "values": [],
        "pagination": {"after": None, "before": None},
    }
    connection = sqlite_connection(client, tmp_path)
    last = create(client, project_id, "CODE", contents={"codeCell": {"source": "print(1)"}})
    sql = create(
        client,
        project_id,
        "SQL",
        contents={
            "sqlCell": {
                "source": "select region, amount from sales order by region",
                "dataConnectionId": connection["id"],
                "outputDataframe": "sales",
            }
        },
        location={"childPosition": "FIRST"},
    )
    note = create(
        client,
        project_id,
        "MARKDOWN",
        label="Intro",
        contents={"markdownCell": {"source": "# Sales"}},
        location={"insertAfterCellId": sql["id"]},
    )
    assert sql["cellType"] == "SQL" and sql["dataConnectionId"] == connection["id"]
    assert sql["contents"] == {
        "codeCell": None,
        "sqlCell": {
            "source": "select region, amount from sales order by region",
            "outputDataframe": "sales",
        },
        "markdownCell": None,
    }
    assert note["label"] == "Intro" and note["staticId"] == note["id"]
    order = [c["id"] for c in cells_of(client, project_id)["values"]]
    assert order == [sql["id"], note["id"], last["id"]]

    first_page = cells_of(client, project_id, limit=2)
    assert [c["id"] for c in first_page["values"]] == order[:2]
    assert first_page["pagination"] == {"after": order[1], "before": None}
    second = cells_of(client, project_id, limit=2, after=first_page["pagination"]["after"])
    assert [c["id"] for c in second["values"]] == order[2:]
    assert second["pagination"] == {"after": None, "before": order[2]}

    updated = client.patch(
        f"/api/v1/cells/{last['id']}",
        json={"contents": {"codeCell": {"source": "print('rows', len(sales))"}}},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["contents"]["codeCell"]["source"] == "print('rows', len(sales))"
    gone = client.delete(f"/api/v1/cells/{note['id']}")
    assert gone.status_code == 200 and gone.json() == {"cellId": note["id"]}
    assert client.get(f"/api/v1/cells/{note['id']}").status_code == 404

    assert client.post(f"/api/v1/projects/{project_id}/publish").status_code == 201
    run = trigger(client, project_id)
    finished = wait_for_end(client, project_id, run["runId"])
    assert finished["status"] == "COMPLETED", finished
    log = client.get(f"/api/v1/projects/{project_id}/runs/{run['runId']}/log").text
    assert "rows 2" in log

    output = client.get(f"/api/v1/cells/{sql['id']}/output")
    assert output.status_code == 200, output.text
    body = output.json()
    assert body["runId"] == run["runId"] and body["cell"]["id"] == sql["id"]
    result = body["result"]
    assert result["type"] == "table"
    assert [c["name"] for c in result["columns"]] == ["region", "amount"]
    assert result["rows"][0] == {"region": "north", "amount": "5.0"} or result["rows"][0] == {
        "region": "north",
        "amount": "5",
    }

    # Editing the draft after publishing leaves version 1 as it was.
    client.patch(f"/api/v1/cells/{last['id']}", json={"contents": {"codeCell": {"source": "2"}}})
    v1 = client.get(f"/api/v1/projects/{project_id}/notebook", params={"version": 1}).json()
    assert "print('rows', len(sales))" in [c["source"] for c in v1["cells"]]


def test_cell_ids_are_stable_across_uploads_and_differ_between_projects(
    client: TestClient,
) -> None:
    nb = notebook("a = 1", "b = 2", parameters="n = 1")
    one = published_project(client, nb, "One")
    two = published_project(client, nb, "Two")
    ids_one = [c["id"] for c in cells_of(client, one)["values"]]
    ids_two = [c["id"] for c in cells_of(client, two)["values"]]
    assert len(ids_one) == 3 and not set(ids_one) & set(ids_two)
    draft = client.get(f"/api/v1/projects/{one}/notebook").json()
    client.put(f"/api/v1/projects/{one}/notebook", json=draft)
    assert [c["id"] for c in cells_of(client, one)["values"]] == ids_one
    cell = client.get(f"/api/v1/cells/{ids_one[1]}").json()
    assert cell["projectId"] == one and cell["contents"]["codeCell"]["source"] == "a = 1"


def test_bad_requests_are_refused_in_the_superset_body(client: TestClient) -> None:
    project_id = published_project(client, notebook("a = 1"))
    cell_id = cells_of(client, project_id)["values"][0]["id"]
    cases = [
        client.get("/api/v1/cells"),
        client.get(f"/api/v1/cells/{uuid.uuid4()}"),
        client.get("/api/v1/cells", params={"projectId": project_id, "after": "nope"}),
        client.post(
            "/api/v1/cells",
            json={
                "projectId": project_id,
                "cellType": "CODE",
                "contents": {"markdownCell": {"source": "x"}},
            },
        ),
        client.post(
            "/api/v1/cells",
            json={
                "projectId": project_id,
                "cellType": "SQL",
                "contents": {"sqlCell": {"source": "select 1"}},
            },
        ),
        client.post(
            "/api/v1/cells",
            json={
                "projectId": project_id,
                "cellType": "CODE",
                "contents": {"codeCell": {"source": "x"}},
                "location": {"insertAfterCellId": str(uuid.uuid4())},
            },
        ),
        client.patch(
            f"/api/v1/cells/{cell_id}", json={"contents": {"markdownCell": {"source": "x"}}}
        ),
        client.patch(f"/api/v1/cells/{cell_id}", json={"dataConnectionId": None}),
        client.get(f"/api/v1/cells/{cell_id}/output"),
    ]
    for response in cases:
        assert 400 <= response.status_code < 500, response.text
        assert {"code", "message", "issues", "reason", "traceId"} <= set(response.json())
    assert [c["id"] for c in cells_of(client, project_id)["values"]] == [cell_id]
