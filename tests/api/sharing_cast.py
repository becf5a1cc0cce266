"""Builders for the project-sharing tests: people with personal tokens, and share calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.cast import bearer, new_user, notebook, personal_token


@dataclass(frozen=True)
class Person:
    id: str
    email: str
    headers: dict[str, str]


def person(client: TestClient, name: str, role: str = "EDITOR") -> Person:
    user = new_user(client, f"{name}@example.com", role, name.title())
    return Person(user["id"], user["email"], bearer(personal_token(client, user["id"])))


def owned_project(client: TestClient, owner: Person, title: str = "Sales") -> str:
    """A published project (input `n`) created by `owner` through their own token."""
    created = client.post("/api/v1/projects", json={"title": title}, headers=owner.headers)
    assert created.status_code == 201, created.text
    project_id: str = created.json()["id"]
    put = client.put(
        f"/api/v1/projects/{project_id}/notebook",
        json=notebook("secret_formula = n * 2\nprint('total', secret_formula)", parameters="n = 1"),
        headers=owner.headers,
    )
    assert put.status_code == 200, put.text
    published = client.post(f"/api/v1/projects/{project_id}/publish", headers=owner.headers)
    assert published.status_code == 201, published.text
    return project_id


def share_users(
    client: TestClient, project_id: str, *entries: tuple[str, str], **kw: Any
) -> httpx.Response:
    body = {
        "sharing": {"upsert": {"users": [{"user": {"id": u}, "access": a} for u, a in entries]}}
    }
    return client.patch(f"/api/v1/projects/{project_id}/sharing/users", json=body, **kw)


def share_groups(
    client: TestClient, project_id: str, *entries: tuple[str, str], **kw: Any
) -> httpx.Response:
    body = {
        "sharing": {"upsert": {"groups": [{"group": {"id": g}, "access": a} for g, a in entries]}}
    }
    return client.patch(f"/api/v1/projects/{project_id}/sharing/groups", json=body, **kw)


def share_workspace(client: TestClient, project_id: str, **sharing: str) -> httpx.Response:
    return client.patch(
        f"/api/v1/projects/{project_id}/sharing/workspaceAndPublic", json={"sharing": sharing}
    )


def can_see(client: TestClient, who: Person, project_id: str) -> bool:
    """True if GetProject answers 200 for `who`; False if 404 (the project is hidden)."""
    status = client.get(f"/api/v1/projects/{project_id}", headers=who.headers).status_code
    assert status in (200, 404), status
    return status == 200
