"""PATCH /api/v1/projects/{projectId}/sharing/collections, and
GET /api/v1/projects?collectionId= that lists a collection's projects."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.cast import bearer, new_collection, workspace_token


def project(client: TestClient, title: str) -> str:
    response = client.post("/api/v1/projects", json={"title": title})
    assert response.status_code == 201
    project_id: str = response.json()["id"]
    return project_id


def share(client: TestClient, project_id: str, *entries: tuple[str, str], **kw: Any) -> Any:
    body = {
        "sharing": {
            "upsert": {"collections": [{"collection": {"id": c}, "access": a} for c, a in entries]}
        }
    }
    return client.patch(f"/api/v1/projects/{project_id}/sharing/collections", json=body, **kw)


def listed(client: TestClient, collection_id: str) -> list[str]:
    response = client.get("/api/v1/projects", params={"collectionId": collection_id})
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["values"]]


def test_a_project_joins_a_collection_and_is_listed_in_it(client: TestClient) -> None:
    finance = new_collection(client, "Finance")
    ops = new_collection(client, "Ops")
    budget = project(client, "Budget")
    project(client, "Unrelated")
    response = share(client, budget, (finance, "CAN_VIEW"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"project"}
    assert body["project"]["id"] == budget and body["project"]["title"] == "Budget"
    assert listed(client, finance) == [budget]
    assert listed(client, ops) == []


def test_access_none_takes_the_project_out(client: TestClient) -> None:
    finance = new_collection(client, "Finance")
    budget = project(client, "Budget")
    share(client, budget, (finance, "CAN_EDIT"))
    assert share(client, budget, (finance, "NONE")).status_code == 200
    assert listed(client, finance) == []


def test_unknown_collections_are_reported_and_the_rest_applied(client: TestClient) -> None:
    finance = new_collection(client, "Finance")
    budget = project(client, "Budget")
    ghost = str(uuid.uuid4())
    response = share(client, budget, (ghost, "CAN_VIEW"), (finance, "CAN_VIEW"))
    assert response.status_code == 200
    assert response.json()["errors"] == [
        {"collectionIds": [ghost], "reason": "Collection not found"}
    ]
    assert listed(client, finance) == [budget]


def test_an_unknown_project_is_a_404_and_an_unknown_collection_filter_too(
    client: TestClient,
) -> None:
    finance = new_collection(client, "Finance")
    assert share(client, str(uuid.uuid4()), (finance, "CAN_VIEW")).status_code == 404
    response = client.get("/api/v1/projects", params={"collectionId": str(uuid.uuid4())})
    assert response.status_code == 404
    assert client.get("/api/v1/projects", params={"collectionId": "nope"}).status_code == 400


def test_bad_bodies_are_400s_and_change_nothing(client: TestClient) -> None:
    finance = new_collection(client, "Finance")
    budget = project(client, "Budget")
    url = f"/api/v1/projects/{budget}/sharing/collections"
    bad: list[dict[str, Any]] = [
        {},
        {"sharing": {"upsert": {}}},
        {"sharing": {"upsert": {"collections": [{"collection": {"id": finance}}]}}},
        {"sharing": {"upsert": {"collections": [{"collection": {"id": finance}, "access": "X"}]}}},
        {"sharing": {"upsert": {"collections": [{"collection": {"id": "f"}, "access": "NONE"}]}}},
        {
            "sharing": {
                "upsert": {
                    "collections": [{"collection": {"id": finance}, "access": "CAN_VIEW"}] * 26
                }
            }
        },
    ]
    for body in bad:
        response = client.patch(url, json=body)
        assert response.status_code == 400, (body, response.text)
    assert listed(client, finance) == []


def test_a_workspace_token_needs_collections_write_and_projects_write(client: TestClient) -> None:
    finance = new_collection(client, "Finance")
    budget = project(client, "Budget")
    for scopes in (["collections:write"], ["projects:write", "projects:read"]):
        token = workspace_token(client, scopes)
        response = share(client, budget, (finance, "CAN_VIEW"), headers=bearer(token))
        assert response.status_code == 403, scopes
    assert listed(client, finance) == []
    both = workspace_token(client, ["collections:write", "projects:write", "projects:read"])
    assert share(client, budget, (finance, "CAN_VIEW"), headers=bearer(both)).status_code == 200
    assert listed(client, finance) == [budget]
