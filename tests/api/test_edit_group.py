"""PATCH /api/v1/groups/{groupId} (Hex's EditGroup): rename, add and remove members."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.cast import bearer, new_group, new_user, workspace_token


def member_ids(client: TestClient, group_id: str) -> set[str]:
    return {u["id"] for u in client.get(f"/api/v1/groups/{group_id}/members").json()["users"]}


def test_it_renames_and_answers_with_the_group(client: TestClient) -> None:
    group_id = new_group(client, "Old")
    response = client.patch(f"/api/v1/groups/{group_id}", json={"name": "New"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "name", "createdAt"}
    assert body["name"] == "New"
    assert client.get(f"/api/v1/groups/{group_id}").json()["name"] == "New"


def test_it_adds_and_removes_members(client: TestClient) -> None:
    a, b, c = (new_user(client, f"{n}@example.com")["id"] for n in "abc")
    group_id = new_group(client, "Team", [a, b])
    response = client.patch(
        f"/api/v1/groups/{group_id}",
        json={
            "members": {"add": {"users": [{"id": c}, {"id": a}]}, "remove": {"users": [{"id": b}]}}
        },
    )
    assert response.status_code == 200, response.text
    assert member_ids(client, group_id) == {a, c}


def test_a_bare_users_list_is_read_as_add(client: TestClient) -> None:
    a, b = (new_user(client, f"{n}@example.com")["id"] for n in "ab")
    group_id = new_group(client, "Team", [a])
    response = client.patch(f"/api/v1/groups/{group_id}", json={"members": {"users": [{"id": b}]}})
    assert response.status_code == 200
    assert member_ids(client, group_id) == {a, b}


def test_unknown_member_ids_are_a_400_naming_them_and_change_nothing(client: TestClient) -> None:
    a = new_user(client, "a@example.com")["id"]
    group_id = new_group(client, "Team", [a])
    ghost = str(uuid.uuid4())
    for members in ({"add": {"users": [{"id": ghost}]}}, {"remove": {"users": [{"id": ghost}]}}):
        response = client.patch(
            f"/api/v1/groups/{group_id}", json={"name": "Renamed", "members": members}
        )
        assert response.status_code == 400
        assert ghost in response.text
    assert client.get(f"/api/v1/groups/{group_id}").json()["name"] == "Team"
    assert member_ids(client, group_id) == {a}


def test_bad_bodies_are_400s_and_change_nothing(client: TestClient) -> None:
    a = new_user(client, "a@example.com")["id"]
    group_id = new_group(client, "Team", [a])
    bodies: list[dict[str, Any]] = [
        {"name": ""},
        {"name": "  "},
        {"members": {"add": {"users": [{"id": "nope"}]}}},
        {"members": {"add": {"users": [{"id": a}]}, "remove": {"users": [{"id": a}]}}},
        {"members": {"replace": {"users": []}}},
        {"owner": "x"},
    ]
    for body in bodies:
        response = client.patch(f"/api/v1/groups/{group_id}", json=body)
        assert response.status_code == 400, (body, response.text)
    assert client.get(f"/api/v1/groups/{group_id}").json()["name"] == "Team"
    assert member_ids(client, group_id) == {a}


def test_renaming_onto_another_groups_name_is_a_409(client: TestClient) -> None:
    new_group(client, "Taken")
    group_id = new_group(client, "Mine")
    assert client.patch(f"/api/v1/groups/{group_id}", json={"name": "Taken"}).status_code == 409
    assert client.patch(f"/api/v1/groups/{group_id}", json={"name": "Mine"}).status_code == 200


def test_an_unknown_group_is_a_404(client: TestClient) -> None:
    response = client.patch(f"/api/v1/groups/{uuid.uuid4()}", json={"name": "x"})
    assert response.status_code == 404


def test_a_workspace_token_needs_the_groups_write_scope(client: TestClient) -> None:
    group_id = new_group(client, "Team")
    reader = workspace_token(client, ["groups:read"])
    response = client.patch(
        f"/api/v1/groups/{group_id}", json={"name": "Hijack"}, headers=bearer(reader)
    )
    assert response.status_code == 403
    assert client.get(f"/api/v1/groups/{group_id}").json()["name"] == "Team"
    alias = client.patch(f"/api/v1/workspace/groups/{group_id}", json={"name": "Via alias"})
    assert alias.status_code == 200 and alias.json()["name"] == "Via alias"
