"""The project page opens on the published app: the published run's outputs, its inputs,
when it ran, and a form to run it with other inputs. App viewers never see the code."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.sharing_cast import owned_project, person, share_users
from tests.cast import personal_token, trigger, wait_for_end
from tests.web.conftest import sign_in

pytestmark = pytest.mark.kernel

# owned_project's notebook computes `secret_formula = n * 2` and prints it: the code is
# what an app viewer must not see, the printed total what they must.
CODE = "secret_formula"


def publish_a_run(client: TestClient, project_id: str) -> str:
    run_id: str = trigger(client, project_id, updatePublishedResults=True)["runId"]
    assert wait_for_end(client, project_id, run_id)["status"] == "COMPLETED"
    return run_id


def test_the_page_opens_on_the_published_app_with_its_run_inputs_and_age(
    client: TestClient, signed_in: TestClient
) -> None:
    owner = person(client, "owner")
    project_id = owned_project(client, owner)
    before = signed_in.get(f"/app/projects/{project_id}")
    assert "No published results yet" in before.text
    assert signed_in.get(f"/app/projects/{project_id}/app").status_code == 404

    run_id = publish_a_run(client, project_id)
    page = signed_in.get(f"/app/projects/{project_id}")
    assert page.status_code == 200
    text = page.text
    assert text.index('id="published-app"') < text.index("Run with other inputs")
    assert f"/app/projects/{project_id}/runs/{run_id}" in text
    assert f'src="/app/projects/{project_id}/app"' in text
    assert "just now" in text or "min ago" in text
    assert "the notebook's defaults" in text
    app = signed_in.get(f"/app/projects/{project_id}/app")
    assert app.status_code == 200
    assert app.headers["content-security-policy"].startswith("sandbox")
    assert "total 2" in app.text and CODE not in app.text


def test_an_app_viewer_sees_the_published_app_and_a_run_form_and_never_the_code(
    client: TestClient, browser: TestClient
) -> None:
    owner = person(client, "owner")
    project_id = owned_project(client, owner)
    run_id = publish_a_run(client, project_id)
    viewer = client.post("/api/v1/users", json={"email": "v@example.com", "role": "MEMBER"})
    viewer_id = viewer.json()["id"]
    assert share_users(client, project_id, (viewer_id, "APP_ONLY")).status_code == 200
    assert sign_in(browser, personal_token(client, viewer_id)).status_code == 303

    page = browser.get(f"/app/projects/{project_id}")
    assert page.status_code == 200
    assert "Published app" in page.text and "Run with other inputs" in page.text
    assert 'name="param.n"' in page.text
    for path in (
        f"/app/projects/{project_id}",
        f"/app/projects/{project_id}/app",
        f"/app/projects/{project_id}/runs/{run_id}",
        f"/app/projects/{project_id}/runs/{run_id}/html",
    ):
        shown = browser.get(path)
        assert shown.status_code == 200, path
        assert CODE not in shown.text, path
    assert "total 2" in browser.get(f"/app/projects/{project_id}/app").text
