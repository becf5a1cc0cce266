"""The verification cache of API tokens (RUNYARD_TOKEN_CACHE_SECONDS): what ends a token's
validity still ends it at once when it is done through the same process, and within the
cache's lifetime when another process sharing the store does it; a token's use is still
recorded once a minute."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import update

from runyard.app import Runtime
from runyard.store.db import Database
from runyard.store.identity import ApiTokenRow
from tests.cast import bearer, new_user, personal_token

# Far longer than any test: what these tests see at once is not the cache running out.
LONG = 300.0


@pytest.fixture
def cache_seconds() -> float:
    return LONG


@pytest.fixture
def settings_values(settings_values: dict[str, Any], cache_seconds: float) -> dict[str, Any]:
    return {**settings_values, "token_cache_seconds": cache_seconds}


@pytest.fixture
def other_process(database_url: str) -> Iterator[Database]:
    """The store as another process sees it: sessions of an engine of its own."""
    db = Database(database_url)
    yield db
    db.dispose()


def me(client: TestClient, token: str) -> httpx.Response:
    return client.get("/api/v1/users/me", headers=bearer(token))


def token_id_of(client: TestClient, token: str) -> str:
    found: str = client.get("/api/v1/tokens", headers=bearer(token)).json()["values"][0]["id"]
    return found


def last_used(client: TestClient, token_id: str) -> str | None:
    listed = client.get("/api/v1/tokens").json()["values"]
    found: str | None = next(t for t in listed if t["id"] == token_id)["lastUsedAt"]
    return found


@pytest.fixture
def editor(client: TestClient) -> tuple[dict[str, Any], str]:
    """An editor, and a personal token of theirs already verified (so remembered)."""
    user = new_user(client, "editor@example.com", "EDITOR", "Ed")
    token = personal_token(client, user["id"])
    assert me(client, token).status_code == 200
    assert me(client, token).status_code == 200
    return user, token


def test_a_remembered_token_is_refused_as_soon_as_it_is_revoked(
    client: TestClient, editor: tuple[dict[str, Any], str]
) -> None:
    _, token = editor
    token_id = token_id_of(client, token)
    assert client.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    refused = me(client, token)
    assert refused.status_code == 401
    assert refused.json()["message"] == "Token has been revoked"


def test_a_remembered_token_of_a_deactivated_user_is_refused_at_once_and_works_on_reactivation(
    client: TestClient, editor: tuple[dict[str, Any], str]
) -> None:
    user, token = editor
    assert client.post(f"/api/v1/users/{user['id']}/deactivate").status_code == 200
    refused = me(client, token)
    assert refused.status_code == 401
    assert refused.json()["message"] == "User is deactivated"
    assert client.post(f"/api/v1/users/{user['id']}/reactivate").status_code == 200
    assert me(client, token).status_code == 200


def test_a_role_change_applies_to_a_remembered_token_at_once(
    client: TestClient, editor: tuple[dict[str, Any], str]
) -> None:
    user, token = editor
    path = f"/api/v1/users/{user['id']}"

    def add_user(email: str) -> int:
        body = {"email": email, "role": "GUEST"}
        return client.post("/api/v1/users", json=body, headers=bearer(token)).status_code

    assert add_user("one@example.com") == 403
    assert client.patch(path, json={"role": "ADMIN"}).status_code == 200
    assert me(client, token).json()["role"] == "ADMIN"
    assert add_user("two@example.com") == 201
    assert client.patch(path, json={"role": "MEMBER"}).status_code == 200
    assert me(client, token).json()["role"] == "MEMBER"
    assert add_user("three@example.com") == 403


def test_a_remembered_token_is_refused_once_it_expires(client: TestClient) -> None:
    user = new_user(client, "short@example.com", "EDITOR")
    expires = datetime.now(UTC) + timedelta(days=1)
    token = personal_token(client, user["id"], expiresAt=expires.isoformat())
    assert me(client, token).status_code == 200
    with time_machine.travel(expires + timedelta(seconds=1), tick=False):
        refused = me(client, token)
    assert refused.status_code == 401
    assert refused.json()["message"] == "Token has expired"


def revoke_elsewhere(db: Database, token_id: str) -> None:
    with db.write() as session:
        session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.id == token_id)
            .values(revoked_at=datetime.now(UTC))
        )


@pytest.mark.parametrize("cache_seconds", [0.5])
def test_a_revocation_by_another_process_is_seen_once_the_cache_runs_out(
    client: TestClient, editor: tuple[dict[str, Any], str], other_process: Database
) -> None:
    _, token = editor
    revoke_elsewhere(other_process, token_id_of(client, token))
    time.sleep(0.6)  # the documented bound: RUNYARD_TOKEN_CACHE_SECONDS
    refused = me(client, token)
    assert refused.status_code == 401
    assert refused.json()["message"] == "Token has been revoked"


@pytest.mark.parametrize("cache_seconds", [0.0])
def test_without_the_cache_a_revocation_by_another_process_is_seen_at_once(
    client: TestClient, editor: tuple[dict[str, Any], str], other_process: Database
) -> None:
    _, token = editor
    revoke_elsewhere(other_process, token_id_of(client, token))
    assert me(client, token).status_code == 401


def test_a_remembered_token_still_records_its_use_once_a_minute(
    client: TestClient, editor: tuple[dict[str, Any], str]
) -> None:
    _, token = editor
    token_id = token_id_of(client, token)
    first = last_used(client, token_id)
    assert first is not None
    assert me(client, token).status_code == 200
    assert last_used(client, token_id) == first  # within the minute: no write
    later = datetime.now(UTC) + timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        assert me(client, token).status_code == 200
    second = last_used(client, token_id)
    assert second is not None and second > first
    user = client.get("/api/v1/users/me", headers=bearer(token)).json()
    assert user["lastLoginDate"] == second


def test_concurrent_requests_with_a_token_to_verify_read_the_store_once(
    client: TestClient, runtime: Runtime, editor: tuple[dict[str, Any], str]
) -> None:
    _, token = editor
    identity = runtime.services.identity
    reads: list[str | None] = []
    real_authenticate = identity.authenticate

    def authenticate(authorization: str | None) -> Any:
        reads.append(authorization)
        return real_authenticate(authorization)

    async def many(app: Any) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://runyard") as http:
            requests = [http.get("/api/v1/users/me", headers=bearer(token)) for _ in range(20)]
            return list(await asyncio.gather(*requests))

    identity.authenticate = authenticate  # type: ignore[method-assign]
    try:
        # A minute on, every request's use is due to be recorded, so none is remembered.
        with time_machine.travel(datetime.now(UTC) + timedelta(seconds=61), tick=False):
            answers = asyncio.run(many(client.app))
    finally:
        del identity.authenticate
    assert [a.status_code for a in answers] == [200] * 20
    assert reads == [f"Bearer {token}"]
