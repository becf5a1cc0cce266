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


def test_someone_it_is_shared_with_reads_its_basic_shape_and_others_get_a_404(
    client: TestClient,
) -> None:
    shared = new_connection(client, description="replica")
    private = new_connection(client, "private", sharing={"workspace": {"members": "NONE"}})
    editor = bearer(personal_token(client, new_user(client, "e@example.com", "EDITOR")["id"]))
    guest = bearer(personal_token(client, new_user(client, "g@example.com", "GUEST")["id"]))
    path = f"/api/v1/data-connections/{shared['id']}"
    read = client.get(path, headers=editor)
    assert read.status_code == 200
    assert read.json() == {
        "id": shared["id"],
        "name": "Warehouse",
        "type": "postgres",
        "description": "replica",
    }
    # Members may query it by default; guests are not workspace members.
    assert client.get(path, headers=guest).status_code == 404
    hidden = client.get(f"/api/v1/data-connections/{private['id']}", headers=editor)
    assert hidden.status_code == 404 and hidden.json()["code"] == "NOT_FOUND"


def test_the_workspace_connections_path_is_an_alias(client: TestClient) -> None:
    created = new_connection(client)
    response = client.get(f"/api/v1/workspace/connections/{created['id']}")
    assert response.status_code == 200 and response.json() == created
