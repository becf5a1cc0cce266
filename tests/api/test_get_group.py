"""GET /api/v1/groups/{groupId} (Hex's GetGroup), and Runyard's member listing."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.cast import bearer, new_group, new_user, workspace_token


def test_it_answers_id_name_and_creation_time(client: TestClient) -> None:
    group_id = new_group(client, "Data")
    response = client.get(f"/api/v1/groups/{group_id}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "name", "createdAt"}
    assert body["id"] == group_id and body["name"] == "Data"
    assert client.get(f"/api/v1/workspace/groups/{group_id}").json() == body


def test_an_unknown_group_is_a_404_and_a_malformed_id_a_400(client: TestClient) -> None:
    response = client.get(f"/api/v1/groups/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
    assert client.get("/api/v1/groups/not-a-uuid").status_code == 400


def test_members_lists_the_users_in_the_group(client: TestClient) -> None:
    bob = new_user(client, "bob@example.com", name="Bob")
    ada = new_user(client, "ada@example.com", name="Ada")
    new_user(client, "out@example.com")
    group_id = new_group(client, "Pair", [bob["id"], ada["id"]])
    response = client.get(f"/api/v1/groups/{group_id}/members")
    assert response.status_code == 200
    assert response.json() == {
        "users": [
            {"id": ada["id"], "email": "ada@example.com", "name": "Ada"},
            {"id": bob["id"], "email": "bob@example.com", "name": "Bob"},
        ]
    }
    assert client.get(f"/api/v1/groups/{uuid.uuid4()}/members").status_code == 404


def test_a_workspace_token_needs_the_groups_read_scope(client: TestClient) -> None:
    group_id = new_group(client, "Scoped")
    writer_only = workspace_token(client, ["groups:write"])
    assert client.get(f"/api/v1/groups/{group_id}", headers=bearer(writer_only)).status_code == 403
    reader = workspace_token(client, ["groups:read"])
    assert client.get(f"/api/v1/groups/{group_id}", headers=bearer(reader)).status_code == 200
