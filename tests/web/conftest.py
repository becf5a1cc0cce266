"""Fixtures for the web UI: a browser-like client with its own cookie jar, and sign-in."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx2
import pytest
from fastapi.testclient import TestClient

from runyard.app import Runtime
from runyard.auth import tokens
from runyard.domain.permissions import TokenType
from runyard.store import identity as identity_store
from runyard.store.identity import ApiTokenRow
from tests.conftest import BOOTSTRAP_TOKEN

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def browser(client: TestClient) -> Iterator[TestClient]:
    """The same app as `client` (already started), but no Authorization header, its own
    cookies, and redirects left for the test to see."""
    with TestClient(client.app, follow_redirects=False) as fresh:
        yield fresh


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, f"no CSRF field on the page:\n{html[:2000]}"
    return found.group(1)


def sign_in(browser: TestClient, token: str = BOOTSTRAP_TOKEN, next: str = "") -> httpx2.Response:
    form = browser.get("/login", params={"next": next} if next else None)
    assert form.status_code == 200, form.text
    return browser.post(
        "/login", data={"token": token, "csrf": csrf_of(form.text), "next": next or "/app/projects"}
    )


@pytest.fixture
def signed_in(browser: TestClient) -> TestClient:
    response = sign_in(browser)
    assert response.status_code == 303, response.text
    return browser


def add_token(runtime: Runtime, scopes: list[str]) -> tuple[str, str]:
    """A new workspace token of the bootstrap admin: (secret, token id)."""
    secret = tokens.generate(TokenType.WORKSPACE)
    token_id = str(uuid.uuid4())
    with runtime.db.write() as session:
        admin = identity_store.get_user_by_email(session, runtime.settings.admin_email)
        assert admin is not None
        identity_store.add(
            session,
            ApiTokenRow(
                id=token_id,
                type=TokenType.WORKSPACE.value,
                token_hash=tokens.hash_token(secret, runtime.services.secret_key),
                user_id=admin.id,
                description="web test token",
                scopes=scopes,
                created_at=datetime.now(UTC),
                expires_at=None,
            ),
        )
    return secret, token_id


def revoke(runtime: Runtime, token_id: str) -> None:
    with runtime.db.write() as session:
        row = session.get(ApiTokenRow, token_id)
        assert row is not None
        row.revoked_at = datetime.now(UTC)
