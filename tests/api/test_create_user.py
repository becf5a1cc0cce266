"""POST /api/v1/users (a Runyard extension: Hex adds users through its UI)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cast import bearer, new_user, personal_token, workspace_token


def test_it_answers_201_with_the_user(client: TestClient) -> None:
    response = client.post(
        "/api/v1/users", json={"email": "Bob@Example.com", "name": "Bob", "role": "EDITOR"}
    )
    assert response.status_code == 201
    user = response.json()
    assert user["email"] == "bob@example.com"  # emails are kept lower-case
    assert (user["name"], user["role"], user["lastLoginDate"]) == ("Bob", "EDITOR", None)
    listed = client.get("/api/v1/users", params={"userIds": user["id"]}).json()["values"]
    assert listed == [user]


def test_name_and_role_are_optional(client: TestClient) -> None:
    user = client.post("/api/v1/users", json={"email": "x@example.com"}).json()
    assert (user["name"], user["role"]) == (None, "MEMBER")


def test_a_taken_email_is_a_409_whatever_its_case(client: TestClient) -> None:
    new_user(client, "bob@example.com")
    response = client.post("/api/v1/users", json={"email": "BOB@example.com"})
    assert response.status_code == 409
    assert response.json()["code"] == "CONFLICT"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a b@example.com"}, "email"),
        ({"email": "x@example.com", "role": "OWNER"}, "role"),
        ({"email": "x@example.com", "name": ""}, "name"),
        ({"email": "x@example.com", "colour": "red"}, "colour"),
        ({}, "email"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_creates_nothing(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/users", json=body)
    assert response.status_code == 400
    assert any(issue["message"].startswith(f"{field}:") for issue in response.json()["issues"])
    assert len(client.get("/api/v1/users").json()["values"]) == 1


def test_only_admins_may_create_users(client: TestClient) -> None:
    manager = new_user(client, "manager@example.com", "MANAGER")
    token = personal_token(client, manager["id"])
    refused = client.post("/api/v1/users", json={"email": "x@example.com"}, headers=bearer(token))
    assert refused.status_code == 403
    read_only = workspace_token(client, ["users:read"])
    refused = client.post(
        "/api/v1/users", json={"email": "x@example.com"}, headers=bearer(read_only)
    )
    assert refused.status_code == 403
