"""GET /api/v1/data-connections (Hex's ListDataConnections)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.cast import bearer, new_connection, new_group, new_user, personal_token, workspace_token


def names(client: TestClient, **params: object) -> list[str]:
    response = client.get("/api/v1/data-connections", params=params)
    assert response.status_code == 200, response.text
    return [value["name"] for value in response.json()["values"]]


def test_an_empty_workspace_lists_nothing_with_null_cursors(client: TestClient) -> None:
    response = client.get("/api/v1/data-connections")
    assert response.status_code == 200
    assert response.json() == {"values": [], "pagination": {"after": None, "before": None}}


def test_the_default_order_is_by_name_a_to_z_ignoring_case(client: TestClient) -> None:
    for name in ("charlie", "Alpha", "bravo"):
        new_connection(client, name)
    assert names(client) == ["Alpha", "bravo", "charlie"]
    assert names(client, sortDirection="DESC") == ["charlie", "bravo", "Alpha"]


def test_it_sorts_by_creation_time(client: TestClient) -> None:
    for name in ("b", "c", "a"):
        new_connection(client, name)
    assert names(client, sortBy="CREATED_AT") == ["b", "c", "a"]
    assert names(client, sortBy="CREATED_AT", sortDirection="DESC") == ["a", "c", "b"]


@pytest.mark.parametrize("sort_by", ["NAME", "CREATED_AT"])
def test_cursors_walk_every_page_forward_and_back(client: TestClient, sort_by: str) -> None:
    for index in range(5):
        new_connection(client, f"conn-{index}")
    seen: list[str] = []
    after = None
    pages = []
    while True:
        params: dict[str, object] = {"limit": 2, "sortBy": sort_by}
        if after:
            params["after"] = after
        page = client.get("/api/v1/data-connections", params=params).json()
        pages.append(page)
        seen += [value["name"] for value in page["values"]]
        after = page["pagination"]["after"]
        if not after:
            break
    assert seen == [f"conn-{index}" for index in range(5)]
    assert len(pages) == 3 and pages[0]["pagination"]["before"] is None
    back = client.get(
        "/api/v1/data-connections",
        params={"limit": 2, "sortBy": sort_by, "before": pages[2]["pagination"]["before"]},
    ).json()
    assert [value["name"] for value in back["values"]] == ["conn-2", "conn-3"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"sortBy": "UPDATED_AT"},
        {"sortDirection": "UP"},
        {"after": "not-a-cursor"},
    ],
)
def test_bad_query_parameters_are_a_400(client: TestClient, params: dict[str, object]) -> None:
    response = client.get("/api/v1/data-connections", params=params)
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"


def test_a_cursor_made_for_names_is_refused_when_sorting_by_time(client: TestClient) -> None:
    for name in ("a", "b"):
        new_connection(client, name)
    after = client.get("/api/v1/data-connections", params={"limit": 1}).json()["pagination"]
    response = client.get(
        "/api/v1/data-connections", params={"sortBy": "CREATED_AT", "after": after["after"]}
    )
    assert response.status_code == 400


def test_others_list_only_the_connections_shared_with_them_in_the_basic_shape(
    client: TestClient,
) -> None:
    member_id = new_user(client, "m@example.com", role="MEMBER")["id"]
    guest_id = new_user(client, "g@example.com", role="GUEST")["id"]
    member, guest = (bearer(personal_token(client, i)) for i in (member_id, guest_id))
    analysts = new_group(client, "Analysts", [guest_id])
    members_default = new_connection(client, "everyone", description="members may query")
    new_connection(client, "admins only", sharing={"workspace": {"members": "NONE"}})
    for_group = new_connection(
        client,
        "analysts",
        sharing={
            "workspace": {"members": "NONE"},
            "groups": [{"group": {"id": analysts}, "access": "VIEW_RESULTS"}],
        },
    )
    as_member = client.get("/api/v1/data-connections", headers=member).json()["values"]
    assert as_member == [
        {
            "id": members_default["id"],
            "name": "everyone",
            "type": "postgres",
            "description": "members may query",
        }
    ]
    as_guest = client.get("/api/v1/data-connections", headers=guest).json()["values"]
    assert [c["id"] for c in as_guest] == [for_group["id"]]
    assert set(as_guest[0]) == {"id", "name", "type"}
    everything = client.get("/api/v1/data-connections").json()["values"]
    assert len(everything) == 3 and all("connectionDetails" in c for c in everything)


def test_a_workspace_token_needs_the_connections_read_scope(client: TestClient) -> None:
    with_scope = workspace_token(client, ["connections:read"])
    without = workspace_token(client, ["projects:read"])
    assert client.get("/api/v1/data-connections", headers=bearer(with_scope)).status_code == 200
    assert client.get("/api/v1/data-connections", headers=bearer(without)).status_code == 403


def test_the_workspace_connections_path_answers_the_same(client: TestClient) -> None:
    new_connection(client, "a")
    new_connection(client, "b")
    hex_path = client.get("/api/v1/data-connections").json()
    alias = client.get("/api/v1/workspace/connections").json()
    assert alias == hex_path
