"""POST, GET and DELETE /api/v1/tokens (a Runyard extension): personal and workspace tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient

from tests.cast import bearer, new_user, personal_token, workspace_token

CREATED_KEYS = {"id", "type", "description", "scopes", "expiresAt", "createdAt", "token"}


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@pytest.fixture
def editor(client: TestClient) -> tuple[dict[str, Any], str]:
    """An editor and a personal token of theirs."""
    user = new_user(client, "editor@example.com", "EDITOR", "Ed")
    return user, personal_token(client, user["id"])


# -- create ----------------------------------------------------------------------------------


def test_an_editor_creates_a_personal_token_that_acts_as_them(
    client: TestClient, editor: tuple[dict[str, Any], str]
) -> None:
    user, own = editor
    response = client.post(
        "/api/v1/tokens",
        json={"type": "PERSONAL", "description": "laptop", "expiresAt": in_days(30)},
        headers=bearer(own),
    )
    assert response.status_code == 201
    created = response.json()
    assert created.keys() >= CREATED_KEYS
    assert created["token"].startswith("hxtp_")
    assert (created["type"], created["description"], created["scopes"]) == (
        "PERSONAL",
        "laptop",
        [],
    )
    me = client.get("/api/v1/users/me", headers=bearer(created["token"])).json()
    assert me["id"] == user["id"]


def test_a_personal_token_without_expiry_gets_the_longest_lifetime(
    client: TestClient, editor: tuple[dict[str, Any], str]
) -> None:
    _, own = editor
    created = client.post("/api/v1/tokens", json={"type": "PERSONAL"}, headers=bearer(own)).json()
    expires = datetime.fromisoformat(created["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"type": "PERSONAL", "expiresAt": None}, "must expire"),
        ({"type": "PERSONAL", "expiresAt": in_days(91)}, "at most 90 days"),
        ({"type": "PERSONAL", "expiresAt": in_days(-1)}, "in the future"),
        ({"type": "PERSONAL", "scopes": ["users:read"]}, "carry no scopes"),
        ({"type": "WORKSPACE", "scopes": ["users:read", "users:fly"]}, "users:fly"),
        ({"type": "WORKSPACE", "expiresAt": in_days(-1)}, "in the future"),
        ({"type": "WORKSPACE", "expiresAt": "2030-01-01T00:00:00"}, "expiresAt"),
        ({"type": "ROBOT"}, "type"),
        ({"type": "WORKSPACE", "colour": "red"}, "colour"),
    ],
)
def test_bad_requests_are_a_400_that_says_why_and_create_nothing(
    client: TestClient, body: dict[str, Any], words: str
) -> None:
    before = client.get("/api/v1/tokens").json()["values"]
    response = client.post("/api/v1/tokens", json=body)
    assert response.status_code == 400, response.text
    assert words in response.text
    assert client.get("/api/v1/tokens").json()["values"] == before


def test_an_admin_creates_a_workspace_token_with_scopes_and_no_expiry(client: TestClient) -> None:
    response = client.post(
        "/api/v1/tokens",
        json={"type": "WORKSPACE", "description": "ci", "scopes": ["users:read", "projects:run"]},
    )
    assert response.status_code == 201
    created = response.json()
    assert created["token"].startswith("hxtw_")
    assert created["scopes"] == ["projects:run", "users:read"]
    assert created["expiresAt"] is None
    assert client.get("/api/v1/users", headers=bearer(created["token"])).status_code == 200


def test_only_admins_create_workspace_tokens(
    client: TestClient, editor: tuple[dict[str, Any], str]
) -> None:
    _, own = editor
    response = client.post(
        "/api/v1/tokens", json={"type": "WORKSPACE", "scopes": []}, headers=bearer(own)
    )
    assert response.status_code == 403


def test_a_workspace_token_cannot_grant_scopes_it_does_not_hold(client: TestClient) -> None:
    limited = workspace_token(client, ["users:read", "users:write"])
    response = client.post(
        "/api/v1/tokens",
        json={"type": "WORKSPACE", "scopes": ["projects:write"]},
        headers=bearer(limited),
    )
    assert response.status_code == 403
    assert "projects:write" in response.json()["message"]


def test_members_cannot_create_personal_tokens_for_themselves(client: TestClient) -> None:
    member = new_user(client, "member@example.com", "MEMBER")
    token = personal_token(client, member["id"])  # issued by an admin
    response = client.post("/api/v1/tokens", json={"type": "PERSONAL"}, headers=bearer(token))
    assert response.status_code == 403


def test_only_admins_issue_personal_tokens_for_someone_else(
    client: TestClient, editor: tuple[dict[str, Any], str]
) -> None:
    _, own = editor
    other = new_user(client, "other@example.com")
    response = client.post(
        "/api/v1/tokens", json={"type": "PERSONAL", "userId": other["id"]}, headers=bearer(own)
    )
    assert response.status_code == 403


def test_the_secret_is_shown_once_and_never_listed(
    client: TestClient, editor: tuple[dict[str, Any], str]
) -> None:
    _, own = editor
    created = client.post("/api/v1/tokens", json={"type": "PERSONAL"}, headers=bearer(own)).json()
    listed = client.get("/api/v1/tokens", headers=bearer(own))
    assert listed.status_code == 200
    assert created["token"] not in listed.text and own not in listed.text
    assert all("token" not in item and "tokenHash" not in item for item in listed.json()["values"])
    everything = client.get("/api/v1/tokens").text
    assert created["token"] not in everything


# -- list ------------------------------------------------------------------------------------


def test_users_list_their_own_tokens_and_admins_list_all(
    client: TestClient, editor: tuple[dict[str, Any], str]
) -> None:
    user, own = editor
    mine = client.get("/api/v1/tokens", headers=bearer(own)).json()["values"]
    assert {item["user"]["id"] for item in mine} == {user["id"]}
    every = client.get("/api/v1/tokens").json()["values"]
    assert {item["user"]["email"] for item in every} == {"admin@runyard.local", user["email"]}
    assert every[0]["createdAt"] >= every[-1]["createdAt"]  # newest first


def test_the_token_list_pages_with_cursors(client: TestClient) -> None:
    for n in range(4):
        workspace_token(client, [], description=f"t{n}")
    first = client.get("/api/v1/tokens", params={"limit": 3}).json()
    assert len(first["values"]) == 3 and first["pagination"]["after"]
    second = client.get(
        "/api/v1/tokens", params={"limit": 3, "after": first["pagination"]["after"]}
    ).json()
    assert len(second["values"]) == 2 and second["pagination"]["after"] is None
    ids = [item["id"] for item in first["values"] + second["values"]]
    assert len(set(ids)) == 5


def test_a_workspace_token_without_users_write_cannot_list_tokens(client: TestClient) -> None:
    token = workspace_token(client, ["users:read"])
    assert client.get("/api/v1/tokens", headers=bearer(token)).status_code == 403


# -- revoke ----------------------------------------------------------------------------------


def test_a_revoked_token_is_refused_at_once(
    client: TestClient, editor: tuple[dict[str, Any], str]
) -> None:
    _, own = editor
    created = client.post("/api/v1/tokens", json={"type": "PERSONAL"}, headers=bearer(own)).json()
    assert client.get("/api/v1/users/me", headers=bearer(created["token"])).status_code == 200
    response = client.delete(f"/api/v1/tokens/{created['id']}", headers=bearer(own))
    assert response.status_code == 204 and response.content == b""
    refused = client.get("/api/v1/users/me", headers=bearer(created["token"]))
    assert refused.status_code == 401
    listed = client.get("/api/v1/tokens", headers=bearer(own)).json()["values"]
    assert next(i for i in listed if i["id"] == created["id"])["revokedAt"] is not None


def test_someone_elses_token_is_a_404_for_a_non_admin(
    client: TestClient, editor: tuple[dict[str, Any], str]
) -> None:
    _, own = editor
    other = new_user(client, "other@example.com", "EDITOR")
    theirs = personal_token(client, other["id"])
    their_id = client.get("/api/v1/tokens", headers=bearer(theirs)).json()["values"][0]["id"]
    assert client.delete(f"/api/v1/tokens/{their_id}", headers=bearer(own)).status_code == 404
    assert client.get("/api/v1/users/me", headers=bearer(theirs)).status_code == 200
    assert client.delete(f"/api/v1/tokens/{their_id}").status_code == 204  # an admin may
    assert client.get("/api/v1/users/me", headers=bearer(theirs)).status_code == 401


def test_revoking_an_unknown_token_is_a_404_and_a_malformed_id_a_400(client: TestClient) -> None:
    assert client.delete("/api/v1/tokens/00000000-0000-4000-8000-000000000000").status_code == 404
    assert client.delete("/api/v1/tokens/nope").status_code == 400


# -- expiry and scopes -----------------------------------------------------------------------


def test_an_expired_token_is_a_401(client: TestClient) -> None:
    token = workspace_token(client, ["users:read"], expiresAt=in_days(1))
    assert client.get("/api/v1/users", headers=bearer(token)).status_code == 200
    with time_machine.travel(datetime.now(UTC) + timedelta(days=2), tick=False):
        response = client.get("/api/v1/users", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["message"] == "Token has expired"


def test_a_workspace_tokens_scopes_are_enforced(client: TestClient) -> None:
    readers = workspace_token(client, ["users:read"])
    bob = new_user(client, "bob@example.com")
    assert client.get("/api/v1/users", headers=bearer(readers)).status_code == 200
    denied = client.post(f"/api/v1/users/{bob['id']}/deactivate", headers=bearer(readers))
    assert denied.status_code == 403
    nothing = workspace_token(client, ["projects:read"])
    assert client.get("/api/v1/users", headers=bearer(nothing)).status_code == 403
