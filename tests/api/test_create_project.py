"""POST /api/v1/projects (Hex's CreateProject)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
PROJECT_KEYS = {
    "id",
    "title",
    "description",
    "type",
    "creator",
    "owner",
    "status",
    "categories",
    "reviews",
    "analytics",
    "lastEditedAt",
    "lastPublishedAt",
    "createdAt",
    "archivedAt",
    "trashedAt",
    "schedules",
}


def test_it_answers_201_with_every_key_of_hexs_project_shape(client: TestClient) -> None:
    response = client.post("/api/v1/projects", json={"title": "Revenue", "description": "d"})
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    project = response.json()
    assert project.keys() >= PROJECT_KEYS
    assert project["title"] == "Revenue" and project["type"] == "PROJECT"
    assert project["creator"] == {"email": "admin@runyard.local"}
    assert TIMESTAMP.match(project["createdAt"]) and TIMESTAMP.match(project["lastEditedAt"])
    assert project["lastPublishedAt"] is None and project["schedules"] == []
    assert project["analytics"]["appViews"]["allTime"] == 0


def test_an_empty_title_is_a_400_naming_the_field(client: TestClient) -> None:
    response = client.post("/api/v1/projects", json={"title": ""})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "BAD_REQUEST" and body["traceId"]
    assert any(issue["message"].startswith("title:") for issue in body["issues"])


def test_unknown_fields_are_refused_and_nothing_is_created(client: TestClient) -> None:
    response = client.post("/api/v1/projects", json={"title": "x", "colour": "red"})
    assert response.status_code == 400
    assert client.get("/api/v1/projects").json()["values"] == []


def test_a_missing_token_is_a_401_in_the_superset_error_body(client: TestClient) -> None:
    response = client.post("/api/v1/projects", json={"title": "x"}, headers={"Authorization": ""})
    assert response.status_code == 401
    body = response.json()
    assert {"code", "message", "issues", "reason", "details", "traceId"} <= body.keys()
    assert body["code"] == "UNAUTHORIZED"
    assert response.headers["x-trace-id"] == body["traceId"]


def test_a_wrong_token_is_a_401(client: TestClient) -> None:
    for header in ("Bearer hxtw_not-a-real-token", "Bearer nonsense", "Basic abc"):
        response = client.get("/api/v1/projects", headers={"Authorization": header})
        assert response.status_code == 401, header
