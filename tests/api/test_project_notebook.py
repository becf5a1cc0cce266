"""PUT /api/v1/projects/{id}/notebook, POST …/publish and POST /api/v1/projects/import."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from tests.cast import notebook

EXAMPLE = Path(__file__).parents[2] / "examples" / "daily_sales.ipynb"


def new_project(client: TestClient) -> str:
    project_id: str = client.post("/api/v1/projects", json={"title": "t"}).json()["id"]
    return project_id


def put(client: TestClient, project_id: str, body: bytes | str) -> object:
    return client.put(
        f"/api/v1/projects/{project_id}/notebook",
        content=body,
        headers={"Content-Type": "application/json"},
    )


def test_publishing_snapshots_the_draft_as_numbered_versions(client: TestClient) -> None:
    project_id = new_project(client)
    put(client, project_id, json.dumps(notebook("x = 1", parameters="a = 1")))
    first = client.post(f"/api/v1/projects/{project_id}/publish")
    put(client, project_id, json.dumps(notebook("x = 2", parameters="a = 1\nb = 'z'")))
    second = client.post(f"/api/v1/projects/{project_id}/publish")
    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert [p["name"] for p in second.json()["parameters"]] == ["a", "b"]
    v1 = client.get(f"/api/v1/projects/{project_id}/notebook", params={"version": 1}).json()
    assert v1["cells"][1]["source"] == "x = 1"


def test_a_body_that_is_not_json_is_a_422_that_says_so(client: TestClient) -> None:
    project_id = new_project(client)
    response = client.put(
        f"/api/v1/projects/{project_id}/notebook",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "JSON" in response.json()["message"]


def test_an_nbformat_3_notebook_is_refused(client: TestClient) -> None:
    project_id = new_project(client)
    response = put(client, project_id, json.dumps({"nbformat": 3, "worksheets": []}))
    assert response.status_code == 422  # type: ignore[attr-defined]


def test_a_parameters_cell_with_code_is_refused_with_the_line(client: TestClient) -> None:
    project_id = new_project(client)
    nb = notebook("print(1)", parameters="a = 1\nb = compute()")
    response = put(client, project_id, json.dumps(nb))
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "line 2" in response.json()["message"]  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/projects/{project_id}").json()["latestVersion"] is None


def test_a_notebook_over_the_size_limit_is_a_413(client: TestClient) -> None:
    project_id = new_project(client)
    huge = json.dumps(notebook("x = '" + "a" * (11 * 1024 * 1024) + "'"))
    response = put(client, project_id, huge)
    assert response.status_code == 413  # type: ignore[attr-defined]
    assert "limit" in response.json()["message"]  # type: ignore[attr-defined]


def test_publishing_a_project_without_a_notebook_is_a_422(client: TestClient) -> None:
    response = client.post(f"/api/v1/projects/{new_project(client)}/publish")
    assert response.status_code == 422


def test_import_takes_a_multipart_upload_and_publishes_it(client: TestClient) -> None:
    with EXAMPLE.open("rb") as handle:
        response = client.post(
            "/api/v1/projects/import",
            params={"publish": "true"},
            files={"file": ("daily_sales.ipynb", handle, "application/x-ipynb+json")},
        )
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["publishedVersion"] == 1
    assert result["project"]["title"] == "Daily sales summary"
    names = [p["name"] for p in result["project"]["parameters"]]
    assert names == ["region", "days", "growth", "include_returns", "run_date"]


def test_import_takes_raw_json_and_leaves_it_unpublished_by_default(client: TestClient) -> None:
    response = client.post(
        "/api/v1/projects/import",
        params={"title": "Raw"},
        content=json.dumps(notebook("1 + 1")),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201
    assert response.json()["publishedVersion"] is None
    assert response.json()["project"]["title"] == "Raw"
