"""POST /api/v1/collections (Hex's CreateCollection): 201 with the collection."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from runyard.app import Runtime
from tests.cast import bearer, new_group, new_user, personal_token, workspace_token


def test_it_creates_a_collection_owned_by_its_creator(client: TestClient, runtime: Runtime) -> None:
    response = client.post(
        "/api/v1/collections", json={"name": "Finance", "description": "Money things"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "name", "description", "creator", "sharing"}
    uuid.UUID(body["id"])
    assert body["name"] == "Finance" and body["description"] == "Money things"
    assert body["creator"]["email"] == runtime.settings.admin_email
    uuid.UUID(body["creator"]["id"])
    assert body["sharing"] == {"users": [], "groups": [], "workspace": {"members": "NONE"}}


def test_it_leaves_out_a_missing_description(client: TestClient) -> None:
    body = client.post("/api/v1/collections", json={"name": "Bare"}).json()
    assert "description" not in body


def test_it_shares_at_creation(client: TestClient) -> None:
    ada = new_user(client, "ada@example.com")["id"]
    group_id = new_group(client, "Readers")
    response = client.post(
        "/api/v1/collections",
        json={
            "name": "Shared",
            "sharing": {
                "users": [{"id": ada, "access": "CAN_EDIT"}],
                "groups": [{"id": group_id, "access": "CAN_VIEW"}],
                "workspace": {"members": "APP_ONLY"},
            },
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["sharing"] == {
        "users": [{"id": ada, "access": "CAN_EDIT"}],
        "groups": [{"id": group_id, "access": "CAN_VIEW"}],
        "workspace": {"members": "APP_ONLY"},
    }


def test_bad_bodies_are_400s_and_create_nothing(client: TestClient) -> None:
    ghost = str(uuid.uuid4())
    bodies: list[dict[str, Any]] = [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x", "sharing": {"users": [{"id": ghost, "access": "CAN_VIEW"}]}},
        {"name": "x", "sharing": {"groups": [{"id": ghost, "access": "CAN_VIEW"}]}},
        {"name": "x", "sharing": {"users": [{"id": "nope", "access": "CAN_VIEW"}]}},
        {"name": "x", "sharing": {"workspace": {"members": "OWNER"}}},
        {"name": "x", "icon": "star"},
    ]
    for body in bodies:
        response = client.post("/api/v1/collections", json=body)
        assert response.status_code == 400, (body, response.text)
    unknown = client.post(
        "/api/v1/collections",
        json={"name": "x", "sharing": {"users": [{"id": ghost, "access": "CAN_VIEW"}]}},
    )
    assert ghost in unknown.text
    assert client.get("/api/v1/collections").json()["values"] == []


def test_a_workspace_token_needs_the_collections_write_scope(client: TestClient) -> None:
    reader = workspace_token(client, ["collections:read"])
    response = client.post("/api/v1/collections", json={"name": "No"}, headers=bearer(reader))
    assert response.status_code == 403
    writer = workspace_token(client, ["collections:write"])
    response = client.post("/api/v1/collections", json={"name": "Yes"}, headers=bearer(writer))
    assert response.status_code == 201


def test_an_editor_may_not_create_collections(client: TestClient) -> None:
    editor = new_user(client, "ed@example.com", role="EDITOR")
    token = personal_token(client, editor["id"])
    response = client.post("/api/v1/collections", json={"name": "Mine"}, headers=bearer(token))
    assert response.status_code == 403
