"""PATCH /api/v1/projects/{projectId}/sharing/users (EditProjectSharingUsers)."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.api.sharing_cast import can_see, owned_project, person, share_users


def test_it_shares_with_users_and_answers_the_project_with_its_sharing(
    client: TestClient,
) -> None:
    alice, bob, cat = (person(client, n) for n in ("alice", "bob", "cat"))
    project_id = owned_project(client, alice)
    response = share_users(client, project_id, (bob.id, "CAN_VIEW"), (cat.id, "APP_ONLY"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body
    assert body["project"]["id"] == project_id
    assert body["project"]["sharing"]["users"] == [
        {"user": {"email": "bob@example.com"}, "access": "CAN_VIEW"},
        {"user": {"email": "cat@example.com"}, "access": "APP_ONLY"},
    ]
    assert can_see(client, bob, project_id) and can_see(client, cat, project_id)


def test_an_upsert_changes_only_the_users_it_names_and_none_removes(client: TestClient) -> None:
    alice, bob, cat = (person(client, n) for n in ("alice", "bob", "cat"))
    project_id = owned_project(client, alice)
    share_users(client, project_id, (bob.id, "CAN_VIEW"), (cat.id, "APP_ONLY"))
    response = share_users(client, project_id, (bob.id, "CAN_EDIT"), (cat.id, "NONE"))
    assert response.json()["project"]["sharing"]["users"] == [
        {"user": {"email": "bob@example.com"}, "access": "CAN_EDIT"}
    ]
    assert not can_see(client, cat, project_id)


def test_unknown_and_deactivated_users_are_reported_and_the_rest_applied(
    client: TestClient,
) -> None:
    alice, bob, gone = (person(client, n) for n in ("alice", "bob", "gone"))
    assert client.post(f"/api/v1/users/{gone.id}/deactivate").status_code == 200
    project_id = owned_project(client, alice)
    stranger = str(uuid.uuid4())
    response = share_users(
        client, project_id, (stranger, "CAN_VIEW"), (gone.id, "CAN_VIEW"), (bob.id, "CAN_VIEW")
    )
    assert response.status_code == 200, response.text
    assert response.json()["errors"] == [
        {"userIds": [stranger], "reason": "User not found"},
        {"userIds": [gone.id], "reason": "User is deactivated"},
    ]
    emails = [u["user"]["email"] for u in response.json()["project"]["sharing"]["users"]]
    assert emails == ["bob@example.com"]


def test_only_someone_with_full_access_may_share(client: TestClient) -> None:
    alice, bob, cat = (person(client, n) for n in ("alice", "bob", "cat"))
    project_id = owned_project(client, alice)
    share_users(client, project_id, (bob.id, "CAN_EDIT"))
    refused = share_users(client, project_id, (cat.id, "CAN_VIEW"), headers=bob.headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "FORBIDDEN"
    # The owner may, and so may someone they give full access to.
    assert share_users(
        client, project_id, (bob.id, "FULL_ACCESS"), headers=alice.headers
    ).is_success
    assert share_users(client, project_id, (cat.id, "CAN_VIEW"), headers=bob.headers).is_success
    assert can_see(client, cat, project_id)


def test_a_project_the_caller_cannot_see_is_a_404(client: TestClient) -> None:
    alice, bob = person(client, "alice"), person(client, "bob")
    project_id = owned_project(client, alice)
    hidden = share_users(client, project_id, (bob.id, "FULL_ACCESS"), headers=bob.headers)
    assert hidden.status_code == 404
    assert share_users(client, str(uuid.uuid4()), (bob.id, "CAN_VIEW")).status_code == 404


def test_bad_bodies_get_a_400_naming_the_field_and_change_nothing(client: TestClient) -> None:
    alice, bob = person(client, "alice"), person(client, "bob")
    project_id = owned_project(client, alice)
    path = f"/api/v1/projects/{project_id}/sharing/users"
    bodies = [
        {"sharing": {"upsert": {"users": [{"user": {"id": bob.id}, "access": "OWNER"}]}}},
        {"sharing": {"upsert": {"users": [{"user": {"id": "bob"}, "access": "CAN_VIEW"}]}}},
        {"sharing": {"upsert": {"users": [{"user": {"id": bob.id}}]}}},
        {
            "sharing": {
                "upsert": {"users": [{"user": {"id": bob.id}, "access": "CAN_VIEW", "x": 1}]}
            }
        },
        {
            "sharing": {
                "upsert": {
                    "users": [{"user": {"id": str(uuid.uuid4())}, "access": "CAN_VIEW"}] * 26
                }
            }
        },
        {"sharing": {}},
        {},
    ]
    for body in bodies:
        response = client.patch(path, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["issues"], body
    assert not can_see(client, bob, project_id)


def test_each_change_is_in_the_audit_log(client: TestClient) -> None:
    alice, bob = person(client, "alice"), person(client, "bob")
    project_id = owned_project(client, alice)
    share_users(client, project_id, (bob.id, "CAN_VIEW"), headers=alice.headers)
    events = client.get("/api/v1/audit", params={"action": "project.share"}).json()["values"]
    assert [e["action"] for e in events] == ["project.share.users"]
    assert events[0]["actor"]["email"] == "alice@example.com"
    assert events[0]["target"] == {"type": "project", "id": project_id}
    assert events[0]["details"] == {"users": {bob.id: "CAN_VIEW"}}
