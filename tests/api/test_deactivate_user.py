"""POST /api/v1/users/{userId}/deactivate (Hex's DeactivateUser)."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.cast import bearer, new_user, personal_token


def admin_id(client: TestClient) -> str:
    page = client.get("/api/v1/users", params={"sortBy": "EMAIL"}).json()
    found: str = next(u["id"] for u in page["values"] if u["email"] == "admin@runyard.local")
    return found


def test_it_answers_200_with_the_user_and_their_tokens_stop_working_at_once(
    client: TestClient,
) -> None:
    bob = new_user(client, "bob@example.com", "EDITOR", "Bob")
    token = personal_token(client, bob["id"])
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200
    response = client.post(f"/api/v1/users/{bob['id']}/deactivate")
    assert response.status_code == 200
    user = response.json()["user"]
    assert (user["id"], user["email"], user["name"], user["role"]) == (
        bob["id"],
        "bob@example.com",
        "Bob",
        "EDITOR",
    )
    assert user["deactivatedAt"] is not None
    refused = client.get("/api/v1/users/me", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["code"] == "UNAUTHORIZED"


def test_deactivating_twice_changes_nothing(client: TestClient) -> None:
    bob = new_user(client, "bob@example.com")
    first = client.post(f"/api/v1/users/{bob['id']}/deactivate").json()["user"]
    again = client.post(f"/api/v1/users/{bob['id']}/deactivate")
    assert again.status_code == 200
    assert again.json()["user"]["deactivatedAt"] == first["deactivatedAt"]


def test_an_admin_cannot_deactivate_themselves(client: TestClient) -> None:
    admin = admin_id(client)
    response = client.post(f"/api/v1/users/{admin}/deactivate")
    assert response.status_code == 422
    assert "yourself" in response.json()["message"]
    assert client.get("/api/v1/users/me").status_code == 200


def test_a_personal_token_of_a_member_cannot_deactivate(client: TestClient) -> None:
    member = new_user(client, "member@example.com", "MEMBER")
    bob = new_user(client, "bob@example.com")
    token = personal_token(client, member["id"])
    response = client.post(f"/api/v1/users/{bob['id']}/deactivate", headers=bearer(token))
    assert response.status_code == 403
    still = client.get("/api/v1/users", params={"userIds": bob["id"]}).json()["values"]
    assert still[0]["deactivatedAt"] is None


def test_an_unknown_user_is_a_404_and_a_malformed_id_a_400(client: TestClient) -> None:
    assert client.post(f"/api/v1/users/{uuid.uuid4()}/deactivate").status_code == 404
    assert client.post("/api/v1/users/not-a-uuid/deactivate").status_code == 400
