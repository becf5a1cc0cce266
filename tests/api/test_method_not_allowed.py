"""A method that no route serves at a path is a 405 whose `Allow` lists every method that is
served there (RFC 9110), in Hex's superset error body; walked over every API path."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def test_a_405_lists_every_method_served_at_the_path(client: TestClient) -> None:
    paths = {
        path: {method.upper() for method in item}
        for path, item in client.get("/openapi.json").json()["paths"].items()
        if path.startswith("/api/v1/")
    }
    patterns = {path: re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", path) + "$") for path in paths}
    checked = 0
    for template in paths:
        url = re.sub(r"\{\w+\}", lambda _: str(uuid.uuid4()), template)
        # `/users/me` is also `/users/{userId}`: a URL is served by every template it fits.
        served = set().union(*(paths[p] for p, pattern in patterns.items() if pattern.match(url)))
        unserved = next((m for m in METHODS if m not in served), None)
        if unserved is None:
            continue
        response = client.request(unserved, url)
        assert response.status_code == 405, (unserved, url)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed == served, (unserved, url)
        assert response.json()["code"] == "METHOD_NOT_ALLOWED"
        checked += 1
    assert checked >= 40


def test_put_of_a_collection_names_get_and_patch(client: TestClient) -> None:
    response = client.put(f"/api/v1/collections/{uuid.uuid4()}", json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PATCH"
