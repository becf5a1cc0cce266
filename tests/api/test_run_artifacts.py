"""GET …/runs/{runId}/notebook, …/html and …/log (Runyard extensions)."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from runyard.app import Runtime
from runyard.domain.run_status import RunStatus
from runyard.services.execution import worker_is_alive, worker_prefix_of_this_host
from runyard.store.runs import RunRow
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


def test_a_run_its_server_left_running_says_it_has_no_log_because_the_server_stopped(
    runtime: Runtime, client: TestClient
) -> None:
    project_id = published_project(client, notebook("x = 1"))
    gone = subprocess.Popen(["true"])  # a process of this host that has exited
    gone.wait()
    run_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    with runtime.db.write() as session:
        session.add(
            RunRow(
                id=run_id,
                project_id=project_id,
                project_version=1,
                status=RunStatus.RUNNING.value,
                trigger="API",
                input_params={},
                options={},
                trace_id=uuid.uuid4().hex,
                timeout_seconds=3600.0,
                created_at=now,
                rung_at=now,
                started_at=now,
                cancel_requested=False,
                worker=f"{worker_prefix_of_this_host()}{gone.pid}:deadbeef",
            )
        )
    # What the next server process on this host does as it starts.
    assert runtime.services.runs.end_orphans(worker_prefix_of_this_host(), worker_is_alive, now)

    for name in ("log", "notebook", "html"):
        response = client.get(f"/api/v1/projects/{project_id}/runs/{run_id}/{name}")
        assert response.status_code == 404
        message = response.json()["message"]
        assert message.startswith(f"Run {run_id} has no {name}: it ended ERRORED before its ")
        assert "server stopped" in message and "yet" not in message
