"""GET /api/v1/users/me (Hex's Me): both shapes, personal and workspace token."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient

from tests.cast import bearer, new_user, personal_token


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_a_personal_token_sees_its_user_the_workspace_and_its_expiry(client: TestClient) -> None:
    bob = new_user(client, "bob@example.com", "EDITOR", "Bob")
    expires = datetime.now(UTC) + timedelta(days=7)
    token = personal_token(client, bob["id"], expiresAt=expires.isoformat())
    response = client.get("/api/v1/users/me", headers=bearer(token))
    assert response.status_code == 200
    me = response.json()
    assert me.keys() == {"id", "name", "email", "role", "lastLoginDate", "org", "token"}
    assert (me["id"], me["name"], me["email"], me["role"]) == (
        bob["id"],
        "Bob",
        "bob@example.com",
        "EDITOR",
    )
    assert me["token"] == {"exp": int(expires.timestamp())}
    uuid.UUID(me["org"]["id"])


def test_a_workspace_token_sees_only_the_workspace_and_its_expiry(client: TestClient) -> None:
    response = client.get("/api/v1/users/me")
    assert response.status_code == 200
    me = response.json()
    assert me.keys() == {"org", "token"}
    assert me["token"] == {"exp": None}


def test_the_org_id_is_the_same_for_every_token_and_every_start(client: TestClient) -> None:
    bob = new_user(client, "bob@example.com")
    personal = client.get("/api/v1/users/me", headers=bearer(personal_token(client, bob["id"])))
    workspace = client.get("/api/v1/users/me")
    assert personal.json()["org"] == workspace.json()["org"]


def test_using_a_personal_token_sets_last_login_at_most_once_a_minute(client: TestClient) -> None:
    bob = new_user(client, "bob@example.com")
    token = personal_token(client, bob["id"])
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    with time_machine.travel(start, tick=False):
        first = client.get("/api/v1/users/me", headers=bearer(token)).json()
    assert first["lastLoginDate"] == stamp(start)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        again = client.get("/api/v1/users/me", headers=bearer(token)).json()
    assert again["lastLoginDate"] == stamp(start)
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        later = client.get("/api/v1/users/me", headers=bearer(token)).json()
    assert later["lastLoginDate"] == stamp(start + timedelta(minutes=2))


def test_a_guest_may_still_ask_who_they_are(client: TestClient) -> None:
    guest = new_user(client, "guest@example.com", "GUEST")
    response = client.get("/api/v1/users/me", headers=bearer(personal_token(client, guest["id"])))
    assert response.status_code == 200
    assert response.json()["role"] == "GUEST"


def test_an_unknown_token_is_a_401(client: TestClient) -> None:
    response = client.get("/api/v1/users/me", headers=bearer("hxtp_nope"))
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"
