"""GET /api/v1/projects (Hex's ListProjects): cursor pagination and filters."""

from __future__ import annotations

from fastapi.testclient import TestClient


def create(client: TestClient, title: str) -> str:
    response = client.post("/api/v1/projects", json={"title": title})
    assert response.status_code == 201
    project_id: str = response.json()["id"]
    return project_id


def test_it_pages_newest_first_and_ends_with_a_null_after_cursor(client: TestClient) -> None:
    ids = [create(client, f"p{i}") for i in range(5)]
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 2}
        if after:
            params["after"] = after
        page = client.get("/api/v1/projects", params=params).json()
        seen += [p["id"] for p in page["values"]]
        pages += 1
        after = page["pagination"]["after"]
        if after is None:
            break
    assert pages == 3
    assert seen == list(reversed(ids))


def test_the_before_cursor_walks_back_to_the_previous_page(client: TestClient) -> None:
    ids = list(reversed([create(client, f"p{i}") for i in range(4)]))
    first = client.get("/api/v1/projects", params={"limit": 2}).json()
    second = client.get(
        "/api/v1/projects", params={"limit": 2, "after": first["pagination"]["after"]}
    ).json()
    assert [p["id"] for p in second["values"]] == ids[2:]
    back = client.get(
        "/api/v1/projects", params={"limit": 2, "before": second["pagination"]["before"]}
    ).json()
    assert [p["id"] for p in back["values"]] == ids[:2]


def test_ascending_order_and_python_style_booleans_are_accepted(client: TestClient) -> None:
    ids = [create(client, f"p{i}") for i in range(3)]
    page = client.get(
        "/api/v1/projects",
        params={"sortDirection": "ASC", "includeArchived": "True", "includeTrashed": "false"},
    ).json()
    assert [p["id"] for p in page["values"]] == ids


def test_status_filters_accept_repeated_and_bracketed_keys(client: TestClient) -> None:
    labelled = create(client, "labelled")
    create(client, "plain")
    assert (
        client.patch(f"/api/v1/projects/{labelled}", json={"status": "Approved"}).status_code == 200
    )
    for query in ("statuses=Approved", "statuses[]=Approved", "statuses=Approved,Other"):
        page = client.get(f"/api/v1/projects?{query}").json()
        assert [p["id"] for p in page["values"]] == [labelled], query


def test_unknown_query_parameters_are_ignored(client: TestClient) -> None:
    create(client, "x")
    response = client.get("/api/v1/projects", params={"includeUnlisted": "true", "foo": "1"})
    assert response.status_code == 200 and len(response.json()["values"]) == 1


def test_a_limit_out_of_range_or_a_bad_cursor_is_a_400(client: TestClient) -> None:
    assert client.get("/api/v1/projects", params={"limit": 0}).status_code == 400
    assert client.get("/api/v1/projects", params={"limit": 101}).status_code == 400
    assert client.get("/api/v1/projects", params={"after": "%%%"}).status_code == 400
