"""GET /app/projects: every project with its version, last publish and parameters."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from runyard.web import pages
from tests.cast import notebook, published_project


def test_the_list_shows_each_project_with_its_version_and_parameters(
    client: TestClient, signed_in: TestClient
) -> None:
    nb = notebook("print(region)", parameters="region = 'EU'\ndays: int = 7")
    published_project(client, nb, title="Daily sales")
    client.post("/api/v1/projects", json={"title": "Only a draft"})
    page = signed_in.get("/app/projects")
    assert page.status_code == 200
    rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)
    sales = next(row for row in rows if "Daily sales" in row)
    assert "v1" in sales and "region: str" in sales and "days: int" in sales
    draft = next(row for row in rows if "Only a draft" in row)
    assert "draft" in draft and "none" in draft


def test_the_list_pages_through_projects_with_the_service_cursor(
    client: TestClient, signed_in: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "PROJECTS_PER_PAGE", 2)
    for title in ("First", "Second", "Third"):
        client.post("/api/v1/projects", json={"title": title})
    first = signed_in.get("/app/projects")
    assert "Third" in first.text and "Second" in first.text and "First" not in first.text
    older = re.search(r'href="(/app/projects\?after=[^"]+)"', first.text)
    assert older, "a link to the next page"
    second = signed_in.get(older.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    assert "First" in second.text and "Third" not in second.text
    assert "?before=" in second.text


def test_an_empty_workspace_explains_how_to_add_a_project(signed_in: TestClient) -> None:
    page = signed_in.get("/app/projects")
    assert "No projects yet" in page.text and "runyard projects import" in page.text
