"""GET /api/v1/data-connections/{dataConnectionId} (Hex's GetDataConnection)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.cast import bearer, new_connection, new_user, personal_token

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_it_answers_the_connection_as_created(client: TestClient) -> None:
    created = new_connection(client, description="replica")
    response = client.get(f"/api/v1/data-connections/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created
    assert "password" not in response.json()["connectionDetails"]["postgres"]


def test_an_unknown_id_is_a_404_in_the_superset_error_body(client: TestClient) -> None:
    response = client.get(f"/api/v1/data-connections/{UNKNOWN}")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "NOT_FOUND" and body["traceId"]


def test_a_malformed_id_is_a_400(client: TestClient) -> None:
    assert client.get("/api/v1/data-connections/not-a-uuid").status_code == 400


def test_editors_may_read_a_connection_but_explorers_may_not(client: TestClient) -> None:
    created = new_connection(client)
    editor = personal_token(client, new_user(client, "e@example.com", role="EDITOR")["id"])
    explorer = personal_token(client, new_user(client, "x@example.com", role="EXPLORER")["id"])
    path = f"/api/v1/data-connections/{created['id']}"
    assert client.get(path, headers=bearer(editor)).status_code == 200
    assert client.get(path, headers=bearer(explorer)).status_code == 403


def test_the_workspace_connections_path_is_an_alias(client: TestClient) -> None:
    created = new_connection(client)
    response = client.get(f"/api/v1/workspace/connections/{created['id']}")
    assert response.status_code == 200 and response.json() == created
