"""Saved views in the run form: editors save and delete them, everyone who may run runs them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.sharing_cast import owned_project, person, share_users
from tests.cast import new_view, personal_token
from tests.web.conftest import csrf_of, sign_in


def test_an_editor_saves_the_forms_inputs_as_a_view_runs_it_and_deletes_it(
    client: TestClient, signed_in: TestClient
) -> None:
    project_id = owned_project(client, person(client, "owner"))
    page = signed_in.get(f"/app/projects/{project_id}")
    assert "Saved views" in page.text and "Save view" in page.text
    csrf = csrf_of(page.text)
    saved = signed_in.post(
        f"/app/projects/{project_id}/runs",
        data={"csrf": csrf, "param.n": "5", "view_name": "Five", "action": "save-view"},
    )
    assert saved.status_code == 303, saved.text
    assert client.get(f"/api/v1/projects/{project_id}/runs").json()["runs"] == []
    (view,) = client.get(f"/api/v1/projects/{project_id}/views").json()["values"]
    assert (view["name"], view["inputParams"]) == ("Five", {"n": 5})

    page = signed_in.get(f"/app/projects/{project_id}")
    assert "Run “Five”" in page.text and '<code class="param">n=5</code>' in page.text
    again = signed_in.post(
        f"/app/projects/{project_id}/runs",
        data={"csrf": csrf, "param.n": "6", "view_name": "Five", "action": "save-view"},
    )
    assert again.status_code == 422 and "Five" in again.text

    ran = signed_in.post(
        f"/app/projects/{project_id}/runs", data={"csrf": csrf, "view": view["id"]}
    )
    assert ran.status_code == 303
    run_id = ran.headers["location"].rsplit("/", 1)[1]
    run = client.get(f"/api/v1/projects/{project_id}/runs/{run_id}").json()
    assert run["inputParams"] == {"n": 5}
    client.delete(f"/api/v1/projects/{project_id}/runs/{run_id}")

    deleted = signed_in.post(
        f"/app/projects/{project_id}/views/{view['id']}/delete", data={"csrf": csrf}
    )
    assert deleted.status_code == 303
    assert client.get(f"/api/v1/projects/{project_id}/views").json()["values"] == []


def test_an_app_viewer_sees_the_views_with_run_buttons_only(
    client: TestClient, browser: TestClient
) -> None:
    project_id = owned_project(client, person(client, "owner"))
    view_id = new_view(client, project_id, "Seven", {"n": 7})
    viewer_id = client.post(
        "/api/v1/users", json={"email": "viewer@example.com", "role": "MEMBER"}
    ).json()["id"]
    share_users(client, project_id, (viewer_id, "APP_ONLY"))
    assert sign_in(browser, personal_token(client, viewer_id)).status_code == 303
    page = browser.get(f"/app/projects/{project_id}")
    assert "Run “Seven”" in page.text
    assert "Save view" not in page.text and f"/views/{view_id}/delete" not in page.text
    refused = browser.post(
        f"/app/projects/{project_id}/views/{view_id}/delete", data={"csrf": csrf_of(page.text)}
    )
    assert refused.status_code == 403
