"""PATCH /api/v1/users/{userId} (a Runyard extension): name and role."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cast import bearer, new_user, personal_token


def admin_id(client: TestClient) -> str:
    page = client.get("/api/v1/users", params={"sortBy": "EMAIL"}).json()
    found: str = next(u["id"] for u in page["values"] if u["email"] == "admin@runyard.local")
    return found


def test_it_renames_and_changes_the_role(client: TestClient) -> None:
    bob = new_user(client, "bob@example.com", "MEMBER", "Bob")
    response = client.patch(f"/api/v1/users/{bob['id']}", json={"name": "Robert"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["role"]) == ("Robert", "MEMBER")
    promoted = client.patch(f"/api/v1/users/{bob['id']}", json={"role": "MANAGER"}).json()
    assert (promoted["name"], promoted["role"]) == ("Robert", "MANAGER")
    cleared = client.patch(f"/api/v1/users/{bob['id']}", json={"name": None}).json()
    assert cleared["name"] is None


def test_a_new_role_applies_to_the_users_tokens_at_once(client: TestClient) -> None:
    bob = new_user(client, "bob@example.com", "ADMIN")
    token = personal_token(client, bob["id"])
    created = client.post("/api/v1/users", json={"email": "a@example.com"}, headers=bearer(token))
    assert created.status_code == 201
    client.patch(f"/api/v1/users/{bob['id']}", json={"role": "EDITOR"})
    refused = client.post("/api/v1/users", json={"email": "b@example.com"}, headers=bearer(token))
    assert refused.status_code == 403


def test_the_last_active_admin_cannot_be_demoted(client: TestClient) -> None:
    admin = admin_id(client)
    response = client.patch(f"/api/v1/users/{admin}", json={"role": "EDITOR"})
    assert response.status_code == 422
    assert "last active admin" in response.json()["message"]
    assert client.get("/api/v1/users").json()["values"][0]["role"] == "ADMIN"


def test_an_admin_may_step_down_when_another_admin_is_left(client: TestClient) -> None:
    new_user(client, "second@example.com", "ADMIN")
    response = client.patch(f"/api/v1/users/{admin_id(client)}", json={"role": "EDITOR"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body", [{"role": "OWNER"}, {"role": None}, {"name": ""}, {"email": "x@example.com"}]
)
def test_bad_input_is_a_400_and_changes_nothing(client: TestClient, body: dict[str, Any]) -> None:
    bob = new_user(client, "bob@example.com", "MEMBER", "Bob")
    response = client.patch(f"/api/v1/users/{bob['id']}", json=body)
    assert response.status_code == 400
    after = client.get("/api/v1/users", params={"userIds": bob["id"]}).json()["values"][0]
    assert after == bob


def test_an_unknown_user_is_a_404(client: TestClient) -> None:
    assert client.patch(f"/api/v1/users/{uuid.uuid4()}", json={"name": "x"}).status_code == 404


def test_only_admins_may_change_users(client: TestClient) -> None:
    bob = new_user(client, "bob@example.com", "MANAGER")
    token = personal_token(client, bob["id"])
    response = client.patch(
        f"/api/v1/users/{bob['id']}", json={"role": "ADMIN"}, headers=bearer(token)
    )
    assert response.status_code == 403


def test_the_document_and_the_server_agree_that_role_may_be_left_out_but_not_null(
    client: TestClient,
) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["components"]["schemas"]["UpdateUserBody"]
    assert "role" not in body.get("required", [])
    assert body["properties"]["role"] == {"$ref": "#/components/schemas/Role"}  # no null
    bob = new_user(client, "bob@example.com", "MEMBER", "Bob")
    refused = client.patch(f"/api/v1/users/{bob['id']}", json={"name": "Robert", "role": None})
    assert refused.status_code == 400
    assert [issue["message"].split(":")[0] for issue in refused.json()["issues"]] == ["role"]
    renamed = client.patch(f"/api/v1/users/{bob['id']}", json={"name": "Robert"})
    assert (renamed.json()["name"], renamed.json()["role"]) == ("Robert", "MEMBER")
