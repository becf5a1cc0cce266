"""GET and PATCH /api/v1/projects/{projectId}."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.cast import notebook, published_project


def test_it_returns_the_project_with_its_published_parameters(client: TestClient) -> None:
    project_id = published_project(client, notebook("print(n)", parameters="n = 3\nname = 'x'"))
    project = client.get(f"/api/v1/projects/{project_id}").json()
    assert project["latestVersion"] == 1
    assert project["lastPublishedAt"] is not None
    assert [(p["name"], p["dataType"], p["default"]) for p in project["parameters"]] == [
        ("n", "int", 3),
        ("name", "str", "x"),
    ]


def test_an_unknown_project_is_a_404_and_a_malformed_id_a_400(client: TestClient) -> None:
    missing = client.get(f"/api/v1/projects/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    assert client.get("/api/v1/projects/not-a-uuid").status_code == 400


def test_patch_sets_and_clears_the_status_label(client: TestClient) -> None:
    project_id = client.post("/api/v1/projects", json={"title": "t"}).json()["id"]
    labelled = client.patch(f"/api/v1/projects/{project_id}", json={"status": "Endorsed"})
    assert labelled.json()["status"] == {"name": "Endorsed"}
    cleared = client.patch(f"/api/v1/projects/{project_id}", json={"status": None})
    assert cleared.json()["status"] is None


def test_patch_refuses_a_non_positive_run_timeout(client: TestClient) -> None:
    project_id = client.post("/api/v1/projects", json={"title": "t"}).json()["id"]
    response = client.patch(f"/api/v1/projects/{project_id}", json={"runTimeoutSeconds": 0})
    assert response.status_code == 400
    assert client.get(f"/api/v1/projects/{project_id}").json()["runTimeoutSeconds"] is None
