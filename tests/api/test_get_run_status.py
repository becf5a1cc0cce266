"""GET …/runs/{runId} and …/run/{runId} (Hex's GetRunStatus)."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

from tests.cast import notebook, published_project, trigger, wait_for_end

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_a_run_goes_from_pending_to_completed_with_hexs_fields(client: TestClient) -> None:
    project_id = published_project(client, notebook("x = 1"))
    run = trigger(client, project_id)
    first = client.get(f"/api/v1/projects/{project_id}/runs/{run['runId']}").json()
    assert first["status"] in {"PENDING", "RUNNING", "COMPLETED"}
    assert TIMESTAMP.match(first["startTime"]) and isinstance(first["elapsedTime"], int)
    final = wait_for_end(client, project_id, run["runId"])
    assert final["status"] == "COMPLETED" and final["runTrigger"] == "API"
    assert TIMESTAMP.match(final["endTime"])
    assert final["elapsedTime"] > 0 and final["projectVersion"] == 1
    legacy = client.get(f"/api/v1/project/{project_id}/run/{run['runId']}").json()
    assert legacy["status"] == "COMPLETED" and legacy["runId"] == run["runId"]


def test_a_failing_cell_ends_the_run_errored_with_the_cell_and_error(client: TestClient) -> None:
    project_id = published_project(
        client, notebook("x = 1", "raise ValueError('boom')", "print('never')")
    )
    final = wait_for_end(client, project_id, trigger(client, project_id)["runId"])
    assert final["status"] == "ERRORED"
    assert final["error"]["ename"] == "ValueError" and final["error"]["evalue"] == "boom"
    assert final["error"]["cellIndex"] == 1


def test_expanded_stats_add_the_state_events(client: TestClient) -> None:
    project_id = published_project(client, notebook("x = 1"))
    run = trigger(client, project_id)
    wait_for_end(client, project_id, run["runId"])
    expanded = client.get(
        f"/api/v1/projects/{project_id}/runs/{run['runId']}",
        headers={"enable-expanded-stats": "true"},
    ).json()
    statuses = [e["value"] for e in expanded["stateEvents"] if e["type"] == "STATUS"]
    assert statuses == ["PENDING", "RUNNING", "COMPLETED"]
    plain = client.get(f"/api/v1/projects/{project_id}/runs/{run['runId']}").json()
    assert plain.get("stateEvents") is None


def test_an_unknown_run_is_a_404(client: TestClient) -> None:
    project_id = published_project(client, notebook("x = 1"))
    response = client.get(f"/api/v1/projects/{project_id}/runs/{uuid.uuid4()}")
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"


def test_a_run_is_not_found_under_another_project(client: TestClient) -> None:
    first = published_project(client, notebook("x = 1"))
    second = published_project(client, notebook("x = 2"))
    run = trigger(client, first)
    assert client.get(f"/api/v1/projects/{second}/runs/{run['runId']}").status_code == 404
    wait_for_end(client, first, run["runId"])


def test_a_project_timeout_ends_a_stuck_run_as_errored(client: TestClient) -> None:
    project_id = published_project(client, notebook("while True:\n    pass"))
    client.patch(f"/api/v1/projects/{project_id}", json={"runTimeoutSeconds": 2})
    final = wait_for_end(client, project_id, trigger(client, project_id)["runId"])
    assert final["status"] == "ERRORED"
    assert "timeout" in final["error"]["message"].lower()
