"""GET …/runs (Hex's GetProjectRuns): offset pagination and filters."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from fastapi.testclient import TestClient

from tests.cast import notebook, published_project, trigger, wait_for_end


def test_it_pages_newest_first_with_absolute_next_and_previous_urls(client: TestClient) -> None:
    project_id = published_project(client, notebook("x = 1"))
    ids = [trigger(client, project_id)["runId"] for _ in range(3)]
    for run_id in ids:
        wait_for_end(client, project_id, run_id)
    first = client.get(f"/api/v1/projects/{project_id}/runs", params={"limit": 2}).json()
    assert [r["runId"] for r in first["runs"]] == ids[::-1][:2]
    assert first["previousPage"] is None and first["traceId"]
    next_url = urlparse(first["nextPage"])
    assert next_url.scheme == "http" and next_url.netloc == "127.0.0.1:8080"
    assert parse_qs(next_url.query)["offset"] == ["2"]
    second = client.get(f"{next_url.path}?{next_url.query}").json()
    assert [r["runId"] for r in second["runs"]] == [ids[0]]
    assert second["nextPage"] is None and second["previousPage"] is not None


def test_an_offset_past_the_end_gives_an_empty_list(client: TestClient) -> None:
    project_id = published_project(client, notebook("x = 1"))
    response = client.get(f"/api/v1/project/{project_id}/runs", params={"offset": 100})
    assert response.status_code == 200 and response.json()["runs"] == []


def test_status_and_trigger_filters_narrow_the_list(client: TestClient) -> None:
    ok = published_project(client, notebook("x = 1"))
    done = trigger(client, ok)["runId"]
    wait_for_end(client, ok, done)
    failed_project = published_project(client, notebook("1/0"))
    wait_for_end(client, failed_project, trigger(client, failed_project)["runId"])
    completed = client.get(
        f"/api/v1/projects/{ok}/runs", params={"statusFilter": "COMPLETED"}
    ).json()["runs"]
    assert [r["runId"] for r in completed] == [done]
    errored = client.get(f"/api/v1/projects/{ok}/runs", params={"statusFilter": "ERRORED"})
    assert errored.json()["runs"] == []
    api_runs = client.get(f"/api/v1/projects/{ok}/runs", params={"runTriggerFilter": "API"})
    assert len(api_runs.json()["runs"]) == 1
    scheduled = client.get(f"/api/v1/projects/{ok}/runs", params={"runTriggerFilter": "SCHEDULED"})
    assert scheduled.json()["runs"] == []


def test_an_unknown_status_filter_is_a_400(client: TestClient) -> None:
    project_id = published_project(client, notebook("x = 1"))
    response = client.get(f"/api/v1/projects/{project_id}/runs", params={"statusFilter": "FAILED"})
    assert response.status_code == 400
