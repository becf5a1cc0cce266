"""The run page (GET /app/projects/{projectId}/runs/{runId}), its notebook HTML, and cancel."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient

from tests.cast import notebook, published_project, wait_for_end
from tests.web.conftest import csrf_of


def submit_run_form(browser: TestClient, project_id: str, **inputs: str) -> str:
    """Post the project page's run form as a browser would; return the run page's path."""
    page = browser.get(f"/app/projects/{project_id}")
    submission = re.search(r'name="submission" value="([^"]+)"', page.text)
    assert submission
    data = {"csrf": csrf_of(page.text), "submission": submission.group(1)}
    data.update({f"param.{name}": value for name, value in inputs.items()})
    response = browser.post(f"/app/projects/{project_id}/runs", data=data)
    assert response.status_code == 303, response.text
    location: str = response.headers["location"]
    return location


@pytest.mark.kernel
def test_a_run_started_from_the_form_completes_and_its_page_shows_log_and_notebook(
    client: TestClient, signed_in: TestClient
) -> None:
    project_id = published_project(
        client, notebook("print(f'hello {who}')", parameters="who = 'world'"), "Greeter"
    )
    run_path = submit_run_form(signed_in, project_id, who="web")
    run_id = run_path.rsplit("/", 1)[-1]
    api_run = wait_for_end(client, project_id, run_id)
    assert api_run["status"] == "COMPLETED"
    assert api_run["runTrigger"] == "APP_REFRESH"
    assert api_run["inputParams"] == {"who": "web"}
    assert api_run["runUrl"].endswith(run_path), "the API's runUrl is this page"

    page = signed_in.get(run_path)
    assert page.status_code == 200
    assert 'class="status status-completed">COMPLETED<' in page.text
    assert "hello web" in page.text, "the log"
    assert 'http-equiv="refresh"' not in page.text and "Cancel run" not in page.text
    assert f'<iframe class="notebook" sandbox src="{run_path}/html"' in page.text

    html = signed_in.get(f"{run_path}/html")
    assert html.status_code == 200 and "hello web" in html.text
    assert html.headers["content-security-policy"].split(";")[0] == "sandbox"
    for outsider in (TestClient(client.app, follow_redirects=False), client):
        refused = outsider.get(f"{run_path}/html", follow_redirects=False)
        assert refused.status_code == 303 and "hello web" not in refused.text

    project_page = signed_in.get(f"/app/projects/{project_id}")
    assert f'href="{run_path}"' in project_page.text


@pytest.mark.kernel
def test_a_resubmitted_form_starts_one_run_and_cancel_on_its_page_ends_it_killed(
    client: TestClient, signed_in: TestClient
) -> None:
    project_id = published_project(client, notebook("import time\ntime.sleep(120)"))
    page = signed_in.get(f"/app/projects/{project_id}")
    form = {
        "csrf": csrf_of(page.text),
        "submission": re.findall(r'name="submission" value="([^"]+)"', page.text)[0],
    }
    first = signed_in.post(f"/app/projects/{project_id}/runs", data=form)
    again = signed_in.post(f"/app/projects/{project_id}/runs", data=form)
    assert first.headers["location"] == again.headers["location"], "a double click runs once"
    run_path = first.headers["location"]

    running = signed_in.get(run_path)
    assert 'http-equiv="refresh" content="2"' in running.text
    assert "Cancel run" in running.text
    cancelled = signed_in.post(f"{run_path}/cancel", data={"csrf": csrf_of(running.text)})
    assert cancelled.status_code == 303 and cancelled.headers["location"] == run_path

    final = wait_for_end(client, project_id, run_path.rsplit("/", 1)[-1], timeout=30)
    assert final["status"] == "KILLED"
    ended = signed_in.get(run_path)
    assert "status-killed" in ended.text
    assert "Cancel run" not in ended.text and 'http-equiv="refresh"' not in ended.text
    assert "Cancelled" in ended.text
    again = signed_in.post(f"{run_path}/cancel", data={"csrf": csrf_of(running.text)})
    assert again.status_code == 422 and "cannot be cancelled" in again.text


def test_an_unknown_run_is_an_html_404(client: TestClient, signed_in: TestClient) -> None:
    project_id = published_project(client, notebook("x = 1"))
    for suffix in ("", "/html"):
        page = signed_in.get(f"/app/projects/{project_id}/runs/{uuid.uuid4()}{suffix}")
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
