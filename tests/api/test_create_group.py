"""POST /api/v1/groups (Hex's CreateGroup): 201 with the members, no createdAt."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.cast import bearer, new_group, new_user, personal_token, workspace_token


def test_it_creates_a_group_with_its_members(client: TestClient) -> None:
    ada = new_user(client, "ada@example.com")
    bob = new_user(client, "bob@example.com")
    response = client.post(
        "/api/v1/groups",
        json={"name": "Analysts", "members": {"users": [{"id": ada["id"]}, {"id": bob["id"]}]}},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "name", "members"}
    uuid.UUID(body["id"])
    assert body["name"] == "Analysts"
    assert sorted(u["id"] for u in body["members"]["users"]) == sorted([ada["id"], bob["id"]])
    got = client.get(f"/api/v1/groups/{body['id']}").json()
    assert got["name"] == "Analysts" and got["createdAt"].endswith("Z")


def test_a_group_may_start_without_members(client: TestClient) -> None:
    response = client.post("/api/v1/groups", json={"name": "Empty"})
    assert response.status_code == 201
    assert response.json()["members"] == {"users": []}


def test_unknown_member_ids_are_a_400_naming_them_and_create_nothing(client: TestClient) -> None:
    ghost = str(uuid.uuid4())
    response = client.post(
        "/api/v1/groups", json={"name": "Ghosts", "members": {"users": [{"id": ghost}]}}
    )
    assert response.status_code == 400
    assert ghost in response.text
    assert {"code", "message", "issues", "reason", "traceId"} <= set(response.json())
    assert client.get("/api/v1/groups").json()["values"] == []


def test_a_duplicate_name_is_a_409(client: TestClient) -> None:
    new_group(client, "Finance")
    response = client.post("/api/v1/groups", json={"name": "Finance"})
    assert response.status_code == 409
    assert len(client.get("/api/v1/groups").json()["values"]) == 1


def test_bad_bodies_are_400s(client: TestClient) -> None:
    for body in (
        {},
        {"name": ""},
        {"name": "   "},
        {"name": 3},
        {"name": "x", "members": {"users": [{"id": "not-a-uuid"}]}},
        {"name": "x", "members": {"users": [], "groups": []}},
        {"name": "x", "colour": "red"},
        {"name": "x", "members": {"users": [{"id": str(uuid.uuid4())}] * 101}},
    ):
        response = client.post("/api/v1/groups", json=body)
        assert response.status_code == 400, (body, response.text)
    assert client.get("/api/v1/groups").json()["values"] == []


def test_a_workspace_token_needs_the_groups_write_scope(client: TestClient) -> None:
    reader = workspace_token(client, ["groups:read"])
    response = client.post("/api/v1/groups", json={"name": "Nope"}, headers=bearer(reader))
    assert response.status_code == 403
    writer = workspace_token(client, ["groups:write"])
    response = client.post("/api/v1/groups", json={"name": "Yes"}, headers=bearer(writer))
    assert response.status_code == 201


def test_an_editor_may_not_create_groups(client: TestClient) -> None:
    editor = new_user(client, "ed@example.com", role="EDITOR")
    token = personal_token(client, editor["id"])
    response = client.post("/api/v1/groups", json={"name": "Mine"}, headers=bearer(token))
    assert response.status_code == 403


def test_the_workspace_alias_creates_groups_too(client: TestClient) -> None:
    response = client.post("/api/v1/workspace/groups", json={"name": "Aliased"})
    assert response.status_code == 201
    assert client.get(f"/api/v1/groups/{response.json()['id']}").status_code == 200
