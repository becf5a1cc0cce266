"""DELETE /api/v1/groups/{groupId} (Hex's DeleteGroup): 204 with an empty body."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.cast import bearer, new_collection, new_group, new_user, workspace_token


def test_it_deletes_the_group_with_an_empty_204(client: TestClient) -> None:
    member = new_user(client, "a@example.com")["id"]
    group_id = new_group(client, "Doomed", [member])
    response = client.delete(f"/api/v1/groups/{group_id}")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/api/v1/groups/{group_id}").status_code == 404
    assert client.delete(f"/api/v1/groups/{group_id}").status_code == 404
    # The member is still a user (a new group can take them in), and the name is free again.
    new_group(client, "Doomed", [member])


def test_deleting_a_group_drops_its_collection_grants(client: TestClient) -> None:
    group_id = new_group(client, "Readers")
    collection_id = new_collection(
        client, "Reports", sharing={"groups": [{"id": group_id, "access": "CAN_VIEW"}]}
    )
    assert client.delete(f"/api/v1/groups/{group_id}").status_code == 204
    sharing = client.get(f"/api/v1/collections/{collection_id}").json()["sharing"]
    assert sharing["groups"] == []


def test_unknown_and_malformed_ids(client: TestClient) -> None:
    assert client.delete(f"/api/v1/groups/{uuid.uuid4()}").status_code == 404
    assert client.delete("/api/v1/groups/123").status_code == 400


def test_a_workspace_token_needs_the_groups_write_scope(client: TestClient) -> None:
    group_id = new_group(client, "Kept")
    reader = workspace_token(client, ["groups:read"])
    response = client.delete(f"/api/v1/groups/{group_id}", headers=bearer(reader))
    assert response.status_code == 403
    assert client.get(f"/api/v1/groups/{group_id}").status_code == 200
    assert client.delete(f"/api/v1/workspace/groups/{group_id}").status_code == 204
