"""GET /api/v1/users (Hex's ListUsers) and its alias GET /api/v1/workspace/users."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cast import bearer, new_user, workspace_token

USER_KEYS = {"id", "name", "email", "role", "lastLoginDate"}


def emails(page: dict[str, Any]) -> list[str]:
    return [user["email"] for user in page["values"]]


@pytest.fixture
def crew(client: TestClient) -> dict[str, dict[str, Any]]:
    return {
        "carol": new_user(client, "carol@example.com", "EDITOR", "carol"),
        "alice": new_user(client, "zed@example.com", "MEMBER", "alice"),
        "bob": new_user(client, "bob@example.com", "GUEST", "bob"),
    }


def test_it_lists_users_in_hexs_shape_sorted_by_name(
    client: TestClient, crew: dict[str, dict[str, Any]]
) -> None:
    response = client.get("/api/v1/users")
    assert response.status_code == 200
    page = response.json()
    assert page["pagination"] == {"after": None, "before": None}
    assert all(user.keys() >= USER_KEYS for user in page["values"])
    # "Administrator" sorts by its name like the others, case-insensitively.
    assert [u["name"] for u in page["values"]] == ["Administrator", "alice", "bob", "carol"]
    alice = page["values"][1]
    assert alice == {**crew["alice"], "lastLoginDate": None}
    assert alice["role"] == "MEMBER"


def test_it_sorts_by_email_in_either_direction(
    client: TestClient, crew: dict[str, dict[str, Any]]
) -> None:
    ascending = client.get("/api/v1/users", params={"sortBy": "EMAIL"}).json()
    assert emails(ascending) == [
        "admin@runyard.local",
        "bob@example.com",
        "carol@example.com",
        "zed@example.com",
    ]
    descending = client.get("/api/v1/users", params={"sortBy": "EMAIL", "sortDirection": "DESC"})
    assert emails(descending.json()) == list(reversed(emails(ascending)))


def test_cursors_walk_every_user_once_and_after_is_null_on_the_last_page(
    client: TestClient, crew: dict[str, dict[str, Any]]
) -> None:
    seen: list[str] = []
    after = None
    pages = []
    while True:
        params: dict[str, Any] = {"limit": 3, "sortBy": "EMAIL"}
        if after:
            params["after"] = after
        page = client.get("/api/v1/users", params=params).json()
        pages.append(page)
        seen += emails(page)
        after = page["pagination"]["after"]
        if after is None:
            break
    assert len(pages) == 2 and len(seen) == 4 == len(set(seen))
    back = client.get(
        "/api/v1/users",
        params={"limit": 3, "sortBy": "EMAIL", "before": pages[1]["pagination"]["before"]},
    ).json()
    assert emails(back) == emails(pages[0])


def test_user_ids_filters_comma_separated_and_repeated(
    client: TestClient, crew: dict[str, dict[str, Any]]
) -> None:
    ids = [crew["alice"]["id"], crew["bob"]["id"]]
    joined = client.get("/api/v1/users", params={"userIds": ",".join(ids)}).json()
    assert {u["id"] for u in joined["values"]} == set(ids)
    repeated = client.get("/api/v1/users", params=[("userIds", ids[0]), ("userIds", ids[1])])
    assert {u["id"] for u in repeated.json()["values"]} == set(ids)


def test_deactivated_users_are_left_out_unless_asked_for(
    client: TestClient, crew: dict[str, dict[str, Any]]
) -> None:
    bob = crew["bob"]["id"]
    assert client.post(f"/api/v1/users/{bob}/deactivate").status_code == 200
    assert "bob@example.com" not in emails(client.get("/api/v1/users").json())
    everyone = client.get("/api/v1/users", params={"includeDeactivated": "true"}).json()
    assert "bob@example.com" in emails(everyone)


def test_the_workspace_alias_gives_the_same_answer(
    client: TestClient, crew: dict[str, dict[str, Any]]
) -> None:
    params = {"limit": 2, "sortBy": "EMAIL"}
    plain = client.get("/api/v1/users", params=params).json()
    alias = client.get("/api/v1/workspace/users", params=params)
    assert alias.status_code == 200
    assert alias.json() == plain


def test_group_id_of_an_unknown_group_is_a_404(client: TestClient) -> None:
    response = client.get("/api/v1/users", params={"groupId": str(uuid.uuid4())})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 501},
        {"sortBy": "ROLE"},
        {"sortDirection": "UP"},
        {"userIds": "not-a-uuid"},
        {"groupId": "nope"},
        {"after": "garbage!"},
    ],
)
def test_bad_query_parameters_are_a_400(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/api/v1/users", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "BAD_REQUEST"


def test_a_workspace_token_without_users_read_gets_403(client: TestClient) -> None:
    token = workspace_token(client, ["projects:read"])
    response = client.get("/api/v1/users", headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"
    allowed = workspace_token(client, ["users:read"])
    assert client.get("/api/v1/users", headers=bearer(allowed)).status_code == 200


def test_without_a_token_it_is_a_401(client: TestClient) -> None:
    assert client.get("/api/v1/users", headers={"Authorization": ""}).status_code == 401


def test_group_id_lists_the_members_of_one_group(
    client: TestClient, crew: dict[str, dict[str, Any]]
) -> None:
    members = [crew["alice"]["id"], crew["carol"]["id"]]
    created = client.post(
        "/api/v1/groups",
        json={"name": "analysts", "members": {"users": [{"id": i} for i in members]}},
    )
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    page = client.get("/api/v1/users", params={"groupId": group_id}).json()
    assert [u["name"] for u in page["values"]] == ["alice", "carol"]
    both = client.get(
        "/api/v1/users", params={"groupId": group_id, "userIds": crew["carol"]["id"]}
    ).json()
    assert [u["name"] for u in both["values"]] == ["carol"]


def test_paging_by_name_sees_every_user_once_whatever_the_alphabet(client: TestClient) -> None:
    for n, name in enumerate(["Élodie", "émile", "Zoë", "Ängel", "bo", "BO"]):
        new_user(client, f"u{n}@example.com", name=name)
    seen: list[str] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 1}
        if after:
            params["after"] = after
        page = client.get("/api/v1/users", params=params).json()
        seen += [u["id"] for u in page["values"]]
        after = page["pagination"]["after"]
        if after is None:
            break
    assert len(seen) == 7 == len(set(seen))
