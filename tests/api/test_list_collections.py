"""GET /api/v1/collections (Hex's ListCollections): by name, cursor pagination."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.cast import bearer, new_collection, new_user, personal_token, workspace_token


def names(client: TestClient, **params: object) -> tuple[list[str], int]:
    seen: list[str] = []
    pages = 0
    after = None
    while True:
        query = dict(params)
        if after:
            query["after"] = after
        response = client.get("/api/v1/collections", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [c["name"] for c in page["values"]]
        pages += 1
        after = page["pagination"]["after"]
        if after is None:
            return seen, pages


def test_it_pages_by_name_and_ends_with_a_null_after_cursor(client: TestClient) -> None:
    for name in ("delta", "Alpha", "charlie", "Bravo", "echo"):
        new_collection(client, name)
    seen, pages = names(client, limit=2, sortBy="NAME")
    assert seen == ["Alpha", "Bravo", "charlie", "delta", "echo"]
    assert pages == 3


def test_the_before_cursor_walks_back(client: TestClient) -> None:
    for name in ("a", "b", "c", "d"):
        new_collection(client, name)
    first = client.get("/api/v1/collections", params={"limit": 2}).json()
    second = client.get(
        "/api/v1/collections", params={"limit": 2, "after": first["pagination"]["after"]}
    ).json()
    assert [c["name"] for c in second["values"]] == ["c", "d"]
    back = client.get(
        "/api/v1/collections", params={"limit": 2, "before": second["pagination"]["before"]}
    ).json()
    assert [c["name"] for c in back["values"]] == ["a", "b"]
    assert back["pagination"]["before"] is None


def test_an_empty_workspace_lists_nothing(client: TestClient) -> None:
    assert client.get("/api/v1/collections").json() == {
        "values": [],
        "pagination": {"after": None, "before": None},
    }


def test_a_user_sees_only_the_collections_shared_with_them(client: TestClient) -> None:
    member = new_user(client, "m@example.com", role="MEMBER")
    new_collection(client, "hidden")
    new_collection(client, "mine", sharing={"users": [{"id": member["id"], "access": "CAN_VIEW"}]})
    response = client.get(
        "/api/v1/collections", headers=bearer(personal_token(client, member["id"]))
    )
    assert [c["name"] for c in response.json()["values"]] == ["mine"]


def test_bad_queries_are_400s(client: TestClient) -> None:
    for params in ({"limit": 0}, {"limit": 101}, {"after": "!!"}, {"before": "e30"}):
        assert client.get("/api/v1/collections", params=params).status_code == 400, params


def test_a_workspace_token_needs_the_collections_read_scope(client: TestClient) -> None:
    none = workspace_token(client, ["groups:read"])
    assert client.get("/api/v1/collections", headers=bearer(none)).status_code == 403
    reader = workspace_token(client, ["collections:read"])
    assert client.get("/api/v1/collections", headers=bearer(reader)).status_code == 200
