"""GET …/runs/{runId}/notebook, …/html and …/log (Runyard extensions)."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.cast import notebook, published_project, trigger, wait_for_end


def test_a_finished_run_keeps_its_executed_notebook_html_and_log(client: TestClient) -> None:
    nb = notebook("print(f'hello {who}')", "who.upper()", parameters="who = 'world'")
    project_id = published_project(client, nb)
    run_id = trigger(client, project_id, inputParams={"who": "runyard"})["runId"]
    assert wait_for_end(client, project_id, run_id)["status"] == "COMPLETED"
    base = f"/api/v1/projects/{project_id}/runs/{run_id}"

    executed = client.get(f"{base}/notebook")
    assert executed.headers["content-type"].startswith("application/x-ipynb+json")
    cells = executed.json()["cells"]
    assert "injected-parameters" in cells[1]["metadata"]["tags"]
    assert cells[2]["outputs"][0]["text"] == "hello runyard\n"
    assert cells[3]["outputs"][0]["data"]["text/plain"] == "'RUNYARD'"

    html = client.get(f"{base}/html")
    assert html.headers["content-type"].startswith("text/html")
    assert html.headers["content-security-policy"] == "sandbox"
    assert "hello runyard" in html.text

    log = client.get(f"{base}/log")
    assert log.headers["content-type"].startswith("text/plain")
    assert "hello runyard" in log.text


def test_artifacts_of_an_unknown_run_are_404(client: TestClient) -> None:
    project_id = published_project(client, notebook("x = 1"))
    response = client.get(f"/api/v1/projects/{project_id}/runs/{uuid.uuid4()}/log")
    assert response.status_code == 404
