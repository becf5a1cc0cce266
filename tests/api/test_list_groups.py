"""GET /api/v1/groups (Hex's ListGroups) and its `/workspace/groups` alias."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.cast import bearer, new_group, new_user, personal_token, workspace_token


def walk(client: TestClient, path: str, **params: object) -> tuple[list[str], int]:
    """Every group name, page by page, following `after` until it is null."""
    names: list[str] = []
    pages = 0
    after = None
    while True:
        query = dict(params)
        if after:
            query["after"] = after
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"values", "pagination"}
        names += [g["name"] for g in page["values"]]
        pages += 1
        after = page["pagination"]["after"]
        if after is None:
            return names, pages


def test_it_pages_newest_first_and_ends_with_a_null_after_cursor(client: TestClient) -> None:
    for name in ("a", "b", "c", "d", "e"):
        new_group(client, name)
    names, pages = walk(client, "/api/v1/groups", limit=2)
    assert names == ["e", "d", "c", "b", "a"]
    assert pages == 3


def test_each_group_has_exactly_hexs_fields(client: TestClient) -> None:
    group_id = new_group(client, "Ops")
    (group,) = client.get("/api/v1/groups").json()["values"]
    assert set(group) == {"id", "name", "createdAt"}
    assert group["id"] == group_id and group["createdAt"].endswith("Z")


def test_sorting_by_name_ignores_case_in_both_directions(client: TestClient) -> None:
    for name in ("delta", "Alpha", "charlie", "Bravo"):
        new_group(client, name)
    names, _ = walk(client, "/api/v1/groups", sortBy="NAME", limit=3)
    assert names == ["Alpha", "Bravo", "charlie", "delta"]
    names, _ = walk(client, "/api/v1/groups", sortBy="NAME", sortDirection="DESC", limit=3)
    assert names == ["delta", "charlie", "Bravo", "Alpha"]
    names, _ = walk(client, "/api/v1/groups", sortBy="CREATED_AT", sortDirection="ASC", limit=3)
    assert names == ["delta", "Alpha", "charlie", "Bravo"]


def test_the_before_cursor_walks_back_to_the_previous_page(client: TestClient) -> None:
    for name in ("a", "b", "c", "d"):
        new_group(client, name)
    first = client.get("/api/v1/groups", params={"limit": 2, "sortBy": "NAME"}).json()
    second = client.get(
        "/api/v1/groups",
        params={"limit": 2, "sortBy": "NAME", "after": first["pagination"]["after"]},
    ).json()
    assert [g["name"] for g in second["values"]] == ["c", "d"]
    assert second["pagination"]["after"] is None
    back = client.get(
        "/api/v1/groups",
        params={"limit": 2, "sortBy": "NAME", "before": second["pagination"]["before"]},
    ).json()
    assert [g["name"] for g in back["values"]] == ["a", "b"]


def test_the_workspace_alias_answers_the_same(client: TestClient) -> None:
    new_group(client, "one")
    new_group(client, "two")
    assert (
        client.get("/api/v1/workspace/groups").json()["values"]
        == client.get("/api/v1/groups").json()["values"]
    )


def test_bad_queries_are_400s(client: TestClient) -> None:
    for params in (
        {"limit": 0},
        {"limit": 501},
        {"sortBy": "EMAIL"},
        {"sortDirection": "UP"},
        {"after": "%%%"},
    ):
        assert client.get("/api/v1/groups", params=params).status_code == 400, params
    assert client.get("/api/v1/groups", params={"limit": 500}).status_code == 200


def test_reading_needs_the_groups_read_scope_but_any_member_may(client: TestClient) -> None:
    new_group(client, "visible")
    no_scope = workspace_token(client, ["projects:read"])
    assert client.get("/api/v1/groups", headers=bearer(no_scope)).status_code == 403
    reader = workspace_token(client, ["groups:read"])
    assert client.get("/api/v1/groups", headers=bearer(reader)).status_code == 200
    member = new_user(client, "m@example.com", role="MEMBER")
    token = personal_token(client, member["id"])
    assert client.get("/api/v1/groups", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/groups", headers=bearer("hxtw_nope")).status_code == 401
