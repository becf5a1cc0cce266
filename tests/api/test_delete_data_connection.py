"""DELETE /api/v1/data-connections/{dataConnectionId} (a Runyard extension)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.cast import bearer, new_connection, new_group, new_user, personal_token

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_it_answers_204_with_an_empty_body_and_the_connection_is_gone(
    client: TestClient,
) -> None:
    created = new_connection(client)
    response = client.delete(f"/api/v1/data-connections/{created['id']}")
    assert response.status_code == 204 and response.content == b""
    assert client.get(f"/api/v1/data-connections/{created['id']}").status_code == 404
    assert client.get("/api/v1/data-connections").json()["values"] == []


def test_a_connection_shared_with_groups_can_be_deleted(client: TestClient) -> None:
    group = new_group(client, "Analysts")
    created = new_connection(
        client, sharing={"groups": [{"group": {"id": group}, "access": "QUERY"}]}
    )
    assert client.delete(f"/api/v1/data-connections/{created['id']}").status_code == 204
    assert client.delete(f"/api/v1/groups/{group}").status_code == 204


def test_an_unknown_id_is_a_404(client: TestClient) -> None:
    assert client.delete(f"/api/v1/data-connections/{UNKNOWN}").status_code == 404


def test_only_admins_may_delete_and_a_refusal_deletes_nothing(client: TestClient) -> None:
    created = new_connection(client)
    editor = personal_token(client, new_user(client, "e@example.com", role="EDITOR")["id"])
    path = f"/api/v1/data-connections/{created['id']}"
    assert client.delete(path, headers=bearer(editor)).status_code == 403
    assert client.get(path).status_code == 200


def test_the_workspace_connections_path_is_an_alias(client: TestClient) -> None:
    created = new_connection(client)
    assert client.delete(f"/api/v1/workspace/connections/{created['id']}").status_code == 204
    assert client.get(f"/api/v1/data-connections/{created['id']}").status_code == 404
