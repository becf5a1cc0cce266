"""Sharing decides who sees and does what with a project, on every project endpoint.

A project not shared with someone answers 404 to them everywhere (its existence does not
leak); a project they see but may not act on answers 403.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.sharing_cast import (
    Person,
    can_see,
    owned_project,
    person,
    share_groups,
    share_users,
    share_workspace,
)
from tests.cast import bearer, new_collection, new_group, wait_for_end, workspace_token


@pytest.fixture
def alice(client: TestClient) -> Person:
    return person(client, "alice")


@pytest.fixture
def bob(client: TestClient) -> Person:
    return person(client, "bob")


@pytest.fixture
def alices_project(client: TestClient, alice: Person) -> str:
    return owned_project(client, alice)


def statuses(client: TestClient, who: Person, project_id: str, run_id: str) -> dict[str, int]:
    """What each project endpoint answers `who`, by a short name."""
    base = f"/api/v1/projects/{project_id}"
    h = who.headers
    return {
        "get": client.get(base, headers=h).status_code,
        "notebook": client.get(f"{base}/notebook", headers=h).status_code,
        "runs": client.get(f"{base}/runs", headers=h).status_code,
        "run": client.get(f"{base}/runs/{run_id}", headers=h).status_code,
        "log": client.get(f"{base}/runs/{run_id}/log", headers=h).status_code,
        "html": client.get(f"{base}/runs/{run_id}/html", headers=h).status_code,
        "schedules": client.get(f"{base}/schedules", headers=h).status_code,
        "trigger": client.post(f"{base}/runs", json={"dryRun": True}, headers=h).status_code,
        "edit": client.patch(base, json={"status": "Draft"}, headers=h).status_code,
        "publish": client.post(f"{base}/publish", headers=h).status_code,
        "share": share_users(client, project_id, headers=h).status_code,
    }


@pytest.fixture
def finished_run(client: TestClient, alice: Person, alices_project: str) -> str:
    response = client.post(f"/api/v1/projects/{alices_project}/runs", headers=alice.headers)
    assert response.status_code == 201, response.text
    run_id: str = response.json()["runId"]
    wait_for_end(client, alices_project, run_id)
    return run_id


def test_a_project_not_shared_with_bob_is_missing_for_him_everywhere(
    client: TestClient, bob: Person, alices_project: str, finished_run: str
) -> None:
    answers = statuses(client, bob, alices_project, finished_run)
    assert set(answers.values()) == {404}, answers
    body = client.get(f"/api/v1/projects/{alices_project}", headers=bob.headers).json()
    assert body["code"] == "NOT_FOUND"
    listed = client.get("/api/v1/projects", headers=bob.headers).json()["values"]
    assert alices_project not in [p["id"] for p in listed]


@pytest.mark.parametrize(
    ("access", "allowed"),
    [
        ("APP_ONLY", {"get", "runs", "run", "log", "html", "schedules", "trigger"}),
        ("CAN_VIEW", {"get", "runs", "run", "log", "schedules", "trigger", "notebook", "html"}),
        (
            "CAN_EDIT",
            {"get", "runs", "run", "log", "schedules", "trigger", "notebook", "html"}
            | {"edit", "publish"},
        ),
        (
            "FULL_ACCESS",
            {"get", "runs", "run", "log", "schedules", "trigger", "notebook", "html"}
            | {"edit", "publish", "share"},
        ),
    ],
)
def test_each_access_level_opens_its_endpoints_and_forbids_the_rest(
    client: TestClient,
    bob: Person,
    alices_project: str,
    finished_run: str,
    access: str,
    allowed: set[str],
) -> None:
    assert share_users(client, alices_project, (bob.id, access)).status_code == 200
    answers = statuses(client, bob, alices_project, finished_run)
    assert {name for name, status in answers.items() if status < 300} == allowed, answers
    assert {status for name, status in answers.items() if name not in allowed} <= {403}, answers


def test_the_role_caps_a_generous_grant(
    client: TestClient, alices_project: str, finished_run: str
) -> None:
    member = person(client, "mia", "MEMBER")
    explorer = person(client, "eve", "EXPLORER")
    for who in (member, explorer):
        assert share_users(client, alices_project, (who.id, "FULL_ACCESS")).status_code == 200
    as_member = statuses(client, member, alices_project, finished_run)
    assert as_member["html"] == 200, as_member
    assert as_member["trigger"] == 201 and as_member["notebook"] == 403, as_member
    assert as_member["edit"] == 403 and as_member["share"] == 403, as_member
    as_explorer = statuses(client, explorer, alices_project, finished_run)
    assert as_explorer["notebook"] == 200 and as_explorer["edit"] == 403, as_explorer


def test_a_group_grant_reaches_its_members_and_leaves_with_them(
    client: TestClient, bob: Person, alices_project: str
) -> None:
    analysts = new_group(client, "Analysts", [bob.id])
    assert share_groups(client, alices_project, (analysts, "APP_ONLY")).status_code == 200
    assert can_see(client, bob, alices_project)
    removed = client.patch(
        f"/api/v1/groups/{analysts}", json={"members": {"remove": {"users": [{"id": bob.id}]}}}
    )
    assert removed.status_code == 200, removed.text
    assert not can_see(client, bob, alices_project)


def test_a_workspace_grant_reaches_members_but_not_guests(
    client: TestClient, bob: Person, alices_project: str
) -> None:
    guest = person(client, "gus", "GUEST")
    assert share_workspace(client, alices_project, workspace="APP_ONLY").status_code == 200
    assert can_see(client, bob, alices_project)
    assert not can_see(client, guest, alices_project)
    listed = client.get("/api/v1/projects", headers=bob.headers).json()["values"]
    assert alices_project in [p["id"] for p in listed]


def test_a_collection_gives_its_readers_the_access_the_project_was_added_with(
    client: TestClient, bob: Person, alices_project: str, finished_run: str
) -> None:
    shelf = new_collection(
        client, "Shelf", sharing={"users": [{"id": bob.id, "access": "CAN_VIEW"}]}
    )
    assert not can_see(client, bob, alices_project)
    added = client.patch(
        f"/api/v1/projects/{alices_project}/sharing/collections",
        json={
            "sharing": {
                "upsert": {"collections": [{"collection": {"id": shelf}, "access": "APP_ONLY"}]}
            }
        },
    )
    assert added.status_code == 200, added.text
    answers = statuses(client, bob, alices_project, finished_run)
    assert answers["get"] == 200 and answers["trigger"] == 201 and answers["notebook"] == 403


def test_admins_see_every_project_and_list_them(client: TestClient, alices_project: str) -> None:
    assert client.get(f"/api/v1/projects/{alices_project}").status_code == 200
    listed = client.get("/api/v1/projects").json()["values"]
    assert alices_project in [p["id"] for p in listed]


def test_a_workspace_token_is_held_to_its_scopes_on_a_project_it_may_reach(
    client: TestClient, alices_project: str
) -> None:
    runner = bearer(workspace_token(client, ["projects:run"]))
    base = f"/api/v1/projects/{alices_project}"
    assert client.post(f"{base}/runs", json={"dryRun": True}, headers=runner).status_code == 201
    assert client.get(base, headers=runner).status_code == 403
    reader = bearer(workspace_token(client, ["projects:read"]))
    assert client.get(base, headers=reader).status_code == 200
    assert client.post(f"{base}/runs", json={"dryRun": True}, headers=reader).status_code == 403


def test_taking_a_grant_away_hides_the_project_again(
    client: TestClient, bob: Person, alices_project: str
) -> None:
    share_users(client, alices_project, (bob.id, "CAN_VIEW"))
    assert can_see(client, bob, alices_project)
    share_users(client, alices_project, (bob.id, "NONE"))
    assert not can_see(client, bob, alices_project)


def test_the_owner_sees_their_project_and_a_new_project_is_private_to_them(
    client: TestClient, alice: Person, bob: Person, alices_project: str
) -> None:
    assert can_see(client, alice, alices_project)
    assert not can_see(client, bob, alices_project)


def test_the_html_of_a_run_shows_app_viewers_its_outputs_but_not_its_code(
    client: TestClient, bob: Person, alices_project: str, finished_run: str
) -> None:
    html = f"/api/v1/projects/{alices_project}/runs/{finished_run}/html"
    share_users(client, alices_project, (bob.id, "APP_ONLY"))
    app = client.get(html, headers=bob.headers).text
    assert "total 2" in app and "secret_formula" not in app
    share_users(client, alices_project, (bob.id, "CAN_VIEW"))
    whole = client.get(html, headers=bob.headers).text
    assert "total 2" in whole and "secret_formula" in whole
