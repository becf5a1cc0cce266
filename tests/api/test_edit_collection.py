"""PATCH /api/v1/collections/{collectionId} (Hex's EditCollection)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.cast import bearer, new_collection, new_group, new_user, workspace_token


def test_it_renames_and_describes(client: TestClient) -> None:
    collection_id = new_collection(client, "Old", description="old words")
    response = client.patch(
        f"/api/v1/collections/{collection_id}", json={"name": "New", "description": "new words"}
    )
    assert response.status_code == 200
    assert response.json()["name"] == "New"
    assert response.json()["description"] == "new words"
    cleared = client.patch(f"/api/v1/collections/{collection_id}", json={"description": None})
    assert "description" not in cleared.json()
    assert cleared.json()["name"] == "New"


def test_sharing_upserts_and_none_removes(client: TestClient) -> None:
    ada = new_user(client, "ada@example.com")["id"]
    bob = new_user(client, "bob@example.com")["id"]
    group_id = new_group(client, "Readers")
    collection_id = new_collection(
        client, "Shared", sharing={"users": [{"id": ada, "access": "CAN_VIEW"}]}
    )
    response = client.patch(
        f"/api/v1/collections/{collection_id}",
        json={
            "sharing": {
                "upsert": {
                    "users": [
                        {"id": ada, "access": "FULL_ACCESS"},
                        {"id": bob, "access": "CAN_VIEW"},
                    ],
                    "groups": [{"id": group_id, "access": "CAN_EDIT"}],
                    "workspace": {"members": "CAN_VIEW"},
                }
            }
        },
    )
    assert response.status_code == 200, response.text
    sharing = response.json()["sharing"]
    assert sorted((u["id"], u["access"]) for u in sharing["users"]) == sorted(
        [(ada, "FULL_ACCESS"), (bob, "CAN_VIEW")]
    )
    assert sharing["groups"] == [{"id": group_id, "access": "CAN_EDIT"}]
    assert sharing["workspace"] == {"members": "CAN_VIEW"}

    response = client.patch(
        f"/api/v1/collections/{collection_id}",
        json={
            "sharing": {
                "upsert": {
                    "users": [{"id": ada, "access": "NONE"}],
                    "groups": [{"id": group_id, "access": "NONE"}],
                    "workspace": {"members": "NONE"},
                }
            }
        },
    )
    assert response.json()["sharing"] == {
        "users": [{"id": bob, "access": "CAN_VIEW"}],
        "groups": [],
        "workspace": {"members": "NONE"},
    }


def test_bad_bodies_are_400s_and_change_nothing(client: TestClient) -> None:
    ada = new_user(client, "ada@example.com")["id"]
    collection_id = new_collection(
        client, "Keep", sharing={"users": [{"id": ada, "access": "CAN_VIEW"}]}
    )
    before = client.get(f"/api/v1/collections/{collection_id}").json()
    ghost = str(uuid.uuid4())
    bodies: list[dict[str, Any]] = [
        {"name": ""},
        {"name": " "},
        {"sharing": {"users": [{"id": ada, "access": "NONE"}]}},  # no `upsert`
        {"sharing": {"upsert": {"users": [{"id": ada, "access": "ADMIN"}]}}},
        {"sharing": {"upsert": {"users": [{"id": "ada", "access": "CAN_VIEW"}]}}},
        {
            "name": "Renamed",
            "sharing": {
                "upsert": {
                    "users": [{"id": ada, "access": "NONE"}, {"id": ghost, "access": "CAN_VIEW"}]
                }
            },
        },
        {"sharing": {"upsert": {"groups": [{"id": ghost, "access": "CAN_VIEW"}]}}},
        {"archived": True},
    ]
    for body in bodies:
        response = client.patch(f"/api/v1/collections/{collection_id}", json=body)
        assert response.status_code == 400, (body, response.text)
    assert client.get(f"/api/v1/collections/{collection_id}").json() == before


def test_an_unknown_collection_is_a_404(client: TestClient) -> None:
    response = client.patch(f"/api/v1/collections/{uuid.uuid4()}", json={"name": "x"})
    assert response.status_code == 404


def test_a_workspace_token_needs_the_collections_write_scope(client: TestClient) -> None:
    collection_id = new_collection(client, "Keep")
    reader = workspace_token(client, ["collections:read"])
    response = client.patch(
        f"/api/v1/collections/{collection_id}", json={"name": "Hijack"}, headers=bearer(reader)
    )
    assert response.status_code == 403
    assert client.get(f"/api/v1/collections/{collection_id}").json()["name"] == "Keep"
