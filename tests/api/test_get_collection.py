"""GET /api/v1/collections/{collectionId} (Hex's GetCollection)."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.cast import bearer, new_collection, new_group, new_user, personal_token


def test_it_answers_the_collection(client: TestClient) -> None:
    collection_id = new_collection(client, "Ops", description="Runbooks")
    response = client.get(f"/api/v1/collections/{collection_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == collection_id
    assert body["name"] == "Ops" and body["description"] == "Runbooks"
    assert body["sharing"]["workspace"] == {"members": "NONE"}


def test_an_unknown_collection_is_a_404_and_a_malformed_id_a_400(client: TestClient) -> None:
    assert client.get(f"/api/v1/collections/{uuid.uuid4()}").status_code == 404
    assert client.get("/api/v1/collections/xyz").status_code == 400


def test_a_collection_not_shared_with_a_user_is_invisible_to_them(client: TestClient) -> None:
    member = new_user(client, "m@example.com", role="MEMBER")
    token = bearer(personal_token(client, member["id"]))
    hidden = new_collection(client, "Hidden")
    assert client.get(f"/api/v1/collections/{hidden}", headers=token).status_code == 404

    direct = new_collection(
        client, "Direct", sharing={"users": [{"id": member["id"], "access": "CAN_VIEW"}]}
    )
    group_id = new_group(client, "G", [member["id"]])
    via_group = new_collection(
        client, "Via group", sharing={"groups": [{"id": group_id, "access": "CAN_VIEW"}]}
    )
    everyone = new_collection(client, "Everyone", sharing={"workspace": {"members": "CAN_VIEW"}})
    for collection_id in (direct, via_group, everyone):
        response = client.get(f"/api/v1/collections/{collection_id}", headers=token)
        assert response.status_code == 200, collection_id


def test_the_workspace_grant_does_not_reach_guests(client: TestClient) -> None:
    guest = new_user(client, "g@example.com", role="GUEST")
    token = bearer(personal_token(client, guest["id"]))
    everyone = new_collection(client, "Everyone", sharing={"workspace": {"members": "CAN_VIEW"}})
    assert client.get(f"/api/v1/collections/{everyone}", headers=token).status_code == 404
