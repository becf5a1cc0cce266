"""PATCH /api/v1/projects/{projectId}/sharing/groups (EditProjectSharingGroups)."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.api.sharing_cast import can_see, owned_project, person, share_groups, share_users
from tests.cast import new_group


def test_it_shares_with_groups_by_id_and_lists_them_by_name(client: TestClient) -> None:
    alice, bob = person(client, "alice"), person(client, "bob")
    analysts = new_group(client, "Analysts", [bob.id])
    finance = new_group(client, "Finance")
    project_id = owned_project(client, alice)
    response = share_groups(client, project_id, (finance, "CAN_EDIT"), (analysts, "APP_ONLY"))
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()
    assert response.json()["project"]["sharing"]["groups"] == [
        {"group": {"name": "Analysts"}, "access": "APP_ONLY"},
        {"group": {"name": "Finance"}, "access": "CAN_EDIT"},
    ]
    assert can_see(client, bob, project_id)


def test_none_removes_a_group_and_unknown_groups_are_reported(client: TestClient) -> None:
    alice, bob = person(client, "alice"), person(client, "bob")
    analysts = new_group(client, "Analysts", [bob.id])
    project_id = owned_project(client, alice)
    share_groups(client, project_id, (analysts, "CAN_VIEW"))
    missing = str(uuid.uuid4())
    response = share_groups(client, project_id, (analysts, "NONE"), (missing, "CAN_VIEW"))
    assert response.status_code == 200, response.text
    assert response.json()["errors"] == [{"groupIds": [missing], "reason": "Group not found"}]
    assert response.json()["project"]["sharing"]["groups"] == []
    assert not can_see(client, bob, project_id)


def test_deleting_a_group_takes_its_grants_with_it(client: TestClient) -> None:
    alice, bob = person(client, "alice"), person(client, "bob")
    analysts = new_group(client, "Analysts", [bob.id])
    project_id = owned_project(client, alice)
    share_groups(client, project_id, (analysts, "CAN_VIEW"))
    assert client.delete(f"/api/v1/groups/{analysts}").status_code == 204
    assert not can_see(client, bob, project_id)
    got = client.get(f"/api/v1/projects/{project_id}", params={"includeSharing": "true"})
    assert got.json()["sharing"]["groups"] == []


def test_a_bad_access_level_is_a_400_and_changes_nothing(client: TestClient) -> None:
    alice = person(client, "alice")
    analysts = new_group(client, "Analysts")
    project_id = owned_project(client, alice)
    response = share_groups(client, project_id, (analysts, "EVERYTHING"))
    assert response.status_code == 400
    assert "access" in response.json()["message"] + response.json()["details"]
    got = client.get(f"/api/v1/projects/{project_id}", params={"includeSharing": "true"})
    assert got.json()["sharing"]["groups"] == []


def test_a_member_may_not_share_even_with_a_grant(client: TestClient) -> None:
    alice = person(client, "alice")
    member = person(client, "mia", "MEMBER")
    analysts = new_group(client, "Analysts")
    project_id = owned_project(client, alice)
    share_users(client, project_id, (member.id, "FULL_ACCESS"))
    refused = share_groups(client, project_id, (analysts, "CAN_VIEW"), headers=member.headers)
    assert refused.status_code == 403
