"""GET /app/projects/{projectId} and POST …/runs: a project, its parameters, its run form."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

from runyard.app import Runtime
from tests.api.sharing_cast import owned_project, person, share_users, share_workspace
from tests.cast import notebook, personal_token, published_project
from tests.web.conftest import add_token, csrf_of, sign_in

PARAMETERS = "region = 'EU'\ndays: int = 7\nweights = [1, 2]\nverbose = True"


def field_value(html: str, name: str) -> str:
    found = re.search(rf'name="param\.{name}"[^>]*value="([^"]*)"', html)
    assert found, f"no input for {name}"
    return found.group(1)


def runs_of(client: TestClient, project_id: str) -> list[dict[str, object]]:
    runs: list[dict[str, object]] = client.get(f"/api/v1/projects/{project_id}/runs").json()["runs"]
    return runs


def test_the_page_lists_the_parameters_and_fills_the_run_form_with_defaults(
    client: TestClient, signed_in: TestClient
) -> None:
    project_id = published_project(client, notebook("x = 1", parameters=PARAMETERS), "Sales")
    page = signed_in.get(f"/app/projects/{project_id}")
    assert page.status_code == 200
    assert "<h1>Sales</h1>" in page.text
    for row in ("region</code></td><td>str", "days</code></td><td>int", "weights</code></td>"):
        assert row in page.text
    assert field_value(page.text, "region") == "EU"
    assert field_value(page.text, "days") == "7"
    assert '<textarea id="f-weights" name="param.weights"' in page.text
    assert "[1, 2]</textarea>" in page.text
    assert '<option value="true" selected>' in page.text
    assert "No runs yet" in page.text


def test_a_project_that_is_not_published_offers_no_run_form(
    client: TestClient, signed_in: TestClient
) -> None:
    project_id = client.post("/api/v1/projects", json={"title": "Draft"}).json()["id"]
    page = signed_in.get(f"/app/projects/{project_id}")
    assert page.status_code == 200
    assert "Publish this project before running it" in page.text
    assert "/runs" not in page.text


def test_invalid_inputs_show_the_form_again_with_each_problem_and_start_nothing(
    client: TestClient, signed_in: TestClient
) -> None:
    project_id = published_project(client, notebook("x = 1", parameters=PARAMETERS))
    page = signed_in.get(f"/app/projects/{project_id}")
    response = signed_in.post(
        f"/app/projects/{project_id}/runs",
        data={
            "csrf": csrf_of(page.text),
            "param.region": "APAC",
            "param.days": "ten",
            "param.weights": "[1,",
            "param.gone": "x",
        },
    )
    assert response.status_code == 422
    assert "expected an integer, got &#39;ten&#39;" in response.text
    assert "not valid JSON" in response.text
    assert "gone: the project declares no such parameter" in response.text
    assert field_value(response.text, "region") == "APAC", "what was typed is kept"
    assert field_value(response.text, "days") == "ten"
    assert runs_of(client, project_id) == []


def test_a_form_post_without_the_sessions_csrf_token_is_refused(
    client: TestClient, signed_in: TestClient
) -> None:
    project_id = published_project(client, notebook("x = 1"))
    for data in ({}, {"csrf": "forged"}):
        response = signed_in.post(f"/app/projects/{project_id}/runs", data=data)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
    assert runs_of(client, project_id) == []


def test_a_token_that_may_not_run_sees_no_run_form_and_is_refused_if_it_posts(
    client: TestClient, browser: TestClient, runtime: Runtime
) -> None:
    project_id = published_project(client, notebook("x = 1"))
    reader, _ = add_token(runtime, ["projects:read"])
    sign_in(browser, token=reader)
    page = browser.get(f"/app/projects/{project_id}")
    assert "Your token may not run projects" in page.text
    response = browser.post(f"/app/projects/{project_id}/runs", data={"csrf": csrf_of(page.text)})
    assert response.status_code == 403 and "may not run projects" in response.text
    assert runs_of(client, project_id) == []


def test_an_unknown_project_is_an_html_404_while_the_api_keeps_answering_json(
    client: TestClient, signed_in: TestClient
) -> None:
    unknown = uuid.uuid4()
    page = signed_in.get(f"/app/projects/{unknown}")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text and f"project {unknown} not found" in page.text
    api = client.get(f"/api/v1/projects/{unknown}")
    assert api.status_code == 404 and api.json()["code"] == "NOT_FOUND"
    assert signed_in.get("/app/no-such-page").status_code == 404


def test_the_page_says_who_the_project_is_shared_with_and_hides_unshared_projects(
    client: TestClient, browser: TestClient
) -> None:
    alice, bob = person(client, "alice"), person(client, "bob")
    project_id = owned_project(client, alice, "Forecast")
    bob_token = personal_token(client, bob.id)
    assert sign_in(browser, bob_token).status_code == 303
    assert browser.get(f"/app/projects/{project_id}").status_code == 404
    assert "Forecast" not in browser.get("/app/projects").text

    share_users(client, project_id, (bob.id, "CAN_VIEW"))
    share_workspace(client, project_id, workspace="APP_ONLY")
    page = browser.get(f"/app/projects/{project_id}")
    assert page.status_code == 200
    assert "<dt>Your access</dt><dd>CAN_VIEW</dd>" in page.text
    assert "bob@example.com: CAN_VIEW" in page.text
    assert "the workspace: APP_ONLY" in page.text


def test_the_owner_shares_the_project_from_its_page_and_others_cannot(
    client: TestClient, browser: TestClient
) -> None:
    alice, bob = person(client, "alice"), person(client, "bob")
    project_id = owned_project(client, alice, "Forecast")
    assert sign_in(browser, personal_token(client, alice.id)).status_code == 303
    page = browser.get(f"/app/projects/{project_id}")
    assert "<h2>Share</h2>" in page.text
    csrf = csrf_of(page.text)
    path = f"/app/projects/{project_id}/sharing"

    shared = browser.post(
        path,
        data={"csrf": csrf, "email": "bob@example.com", "access": "CAN_VIEW", "workspace": "NONE"},
    )
    assert shared.status_code == 303, shared.text
    assert client.get(f"/api/v1/projects/{project_id}", headers=bob.headers).status_code == 200
    assert "bob@example.com: CAN_VIEW" in browser.get(f"/app/projects/{project_id}").text

    unknown = browser.post(
        path, data={"csrf": csrf, "email": "nobody@example.com", "access": "CAN_VIEW"}
    )
    assert unknown.status_code == 422
    assert "nobody@example.com: User not found" in unknown.text
    bad = browser.post(path, data={"csrf": csrf, "workspace": "EVERYONE"})
    assert bad.status_code == 422 and "workspace: not an access level" in bad.text
    assert (
        browser.post(path, data={"email": "bob@example.com", "access": "NONE"}).status_code == 403
    )

    # Bob may explore, not share: no form, and a forged post is refused.
    with TestClient(client.app, follow_redirects=False) as bobs_browser:
        assert sign_in(bobs_browser, personal_token(client, bob.id)).status_code == 303
        bobs_page = bobs_browser.get(f"/app/projects/{project_id}")
        assert "<h2>Share</h2>" not in bobs_page.text
        forged = bobs_browser.post(
            path,
            data={
                "csrf": csrf_of(bobs_page.text),
                "email": "bob@example.com",
                "access": "FULL_ACCESS",
            },
        )
        assert forged.status_code == 403
    assert "bob@example.com: CAN_VIEW" in browser.get(f"/app/projects/{project_id}").text
