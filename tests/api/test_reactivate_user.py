"""POST /api/v1/users/{userId}/reactivate (a Runyard extension)."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.cast import bearer, new_user, personal_token


def test_a_reactivated_users_unrevoked_tokens_work_again(client: TestClient) -> None:
    bob = new_user(client, "bob@example.com")
    token = personal_token(client, bob["id"])
    client.post(f"/api/v1/users/{bob['id']}/deactivate")
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 401
    response = client.post(f"/api/v1/users/{bob['id']}/reactivate")
    assert response.status_code == 200
    assert response.json()["user"]["deactivatedAt"] is None
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200


def test_only_admins_may_reactivate(client: TestClient) -> None:
    bob = new_user(client, "bob@example.com")
    manager = new_user(client, "manager@example.com", "MANAGER")
    client.post(f"/api/v1/users/{bob['id']}/deactivate")
    token = personal_token(client, manager["id"])
    response = client.post(f"/api/v1/users/{bob['id']}/reactivate", headers=bearer(token))
    assert response.status_code == 403


def test_an_unknown_user_is_a_404(client: TestClient) -> None:
    assert client.post(f"/api/v1/users/{uuid.uuid4()}/reactivate").status_code == 404
