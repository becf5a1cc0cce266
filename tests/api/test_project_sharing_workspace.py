"""PATCH /api/v1/projects/{projectId}/sharing/workspaceAndPublic, and `includeSharing`."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.sharing_cast import can_see, owned_project, person, share_workspace
from tests.cast import new_collection

SHARING_KEYS = {"users", "collections", "groups", "workspace", "publicWeb", "support"}


def test_it_sets_the_workspace_access_and_an_omitted_key_leaves_it(client: TestClient) -> None:
    alice, bob = person(client, "alice"), person(client, "bob")
    project_id = owned_project(client, alice)
    response = share_workspace(client, project_id, workspace="CAN_VIEW")
    assert response.status_code == 200, response.text
    assert response.json()["project"]["sharing"]["workspace"] == {"access": "CAN_VIEW"}
    assert "errors" not in response.json()
    unchanged = share_workspace(client, project_id, publicWeb="NONE")
    assert unchanged.json()["project"]["sharing"]["workspace"] == {"access": "CAN_VIEW"}
    assert can_see(client, bob, project_id)
    share_workspace(client, project_id, workspace="NONE")
    assert not can_see(client, bob, project_id)


def test_the_public_web_is_refused_with_a_reason_and_the_rest_applied(client: TestClient) -> None:
    alice = person(client, "alice")
    project_id = owned_project(client, alice)
    response = share_workspace(client, project_id, workspace="APP_ONLY", publicWeb="APP_ONLY")
    assert response.status_code == 200, response.text
    assert response.json()["errors"] == [
        {"type": "publicWeb", "reason": "Runyard does not publish projects to the public web"}
    ]
    sharing = response.json()["project"]["sharing"]
    assert sharing["workspace"] == {"access": "APP_ONLY"}
    assert sharing["publicWeb"] == {"access": "NONE"}


def test_unknown_keys_and_levels_are_400s(client: TestClient) -> None:
    project_id = owned_project(client, person(client, "alice"))
    path = f"/api/v1/projects/{project_id}/sharing/workspaceAndPublic"
    for body in (
        {"sharing": {"workspace": "ALL"}},
        {"sharing": {"support": "CAN_VIEW"}},
        {"workspace": "CAN_VIEW"},
    ):
        assert client.patch(path, json=body).status_code == 400, body


def test_include_sharing_adds_all_six_keys_to_get_and_list_and_is_absent_otherwise(
    client: TestClient,
) -> None:
    project_id = owned_project(client, person(client, "alice"))
    plain = client.get(f"/api/v1/projects/{project_id}").json()
    assert "sharing" not in plain
    got = client.get(f"/api/v1/projects/{project_id}", params={"includeSharing": "True"}).json()
    assert set(got["sharing"]) == SHARING_KEYS
    assert got["sharing"]["support"] == {"access": "NONE"}
    listed = client.get("/api/v1/projects", params={"includeSharing": "true"}).json()["values"]
    assert all(set(p["sharing"]) == SHARING_KEYS for p in listed)
    assert all("sharing" not in p for p in client.get("/api/v1/projects").json()["values"])


def test_a_project_in_a_collection_shows_it_in_its_sharing(client: TestClient) -> None:
    project_id = owned_project(client, person(client, "alice"))
    shelf = new_collection(client, "Shelf")
    client.patch(
        f"/api/v1/projects/{project_id}/sharing/collections",
        json={
            "sharing": {
                "upsert": {"collections": [{"collection": {"id": shelf}, "access": "CAN_VIEW"}]}
            }
        },
    )
    got = client.get(f"/api/v1/projects/{project_id}", params={"includeSharing": "true"}).json()
    assert got["sharing"]["collections"] == [
        {"collection": {"name": "Shelf"}, "access": "CAN_VIEW"}
    ]
