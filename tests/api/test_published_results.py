"""Published results: which run a project's published app shows (GET …/publishedRun).

A completed run asked to update them (`updatePublishedResults`, or the deprecated
`updateCache`) replaces them, and so does every scheduled run unless its schedule opts out;
other runs, and failed runs, leave them alone. Setting the flag needs "Can Edit".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from runyard.app import Runtime
from tests.api.sharing_cast import owned_project, person, share_users
from tests.cast import notebook, published_project, trigger, wait_for_end

pytestmark = pytest.mark.kernel

# `fail = 1` makes a run fail; the published app prints `total`.
FAILING_ON_DEMAND = notebook(
    "assert fail == 0, 'asked to fail'\nprint('total', n * 2)", parameters="n = 1\nfail = 0"
)


@pytest.fixture
def settings_values(settings_values: dict[str, Any]) -> dict[str, Any]:
    # The tests tick the scheduler at a slot up to a minute ahead, and that tick's upkeep
    # reaps runs whose lease ends before then: a lease longer than that keeps the run it just
    # fired (which a pooled kernel may already be running) from being reaped as lost.
    return {**settings_values, "lease_seconds": 600}


def published_run(client: TestClient, project_id: str, **kw: Any) -> Any:
    return client.get(f"/api/v1/projects/{project_id}/publishedRun", **kw)


def finished(client: TestClient, project_id: str, **body: Any) -> dict[str, Any]:
    run = trigger(client, project_id, **body)
    return wait_for_end(client, project_id, run["runId"])


def test_a_project_without_published_results_answers_404_in_the_superset_body(
    client: TestClient,
) -> None:
    project_id = published_project(client, FAILING_ON_DEMAND)
    finished(client, project_id)  # a plain run publishes nothing
    response = published_run(client, project_id)
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "NOT_FOUND" and "no published results" in body["message"]
    assert (
        client.get(f"/api/v1/projects/{project_id}").json()["analytics"][
            "publishedResultsUpdatedAt"
        ]
        is None
    )


@pytest.mark.parametrize("flag", ["updatePublishedResults", "updateCache"])
def test_update_published_results_and_update_cache_both_publish_the_completed_run(
    client: TestClient, flag: str
) -> None:
    project_id = published_project(client, FAILING_ON_DEMAND)
    run = finished(client, project_id, **{flag: True})
    assert run["status"] == "COMPLETED"
    finished(client, project_id)  # a later plain run leaves them alone
    shown = published_run(client, project_id)
    assert shown.status_code == 200, shown.text
    assert shown.json()["runId"] == run["runId"]
    assert shown.json()["projectVersion"] == 1
    project = client.get(f"/api/v1/projects/{project_id}").json()
    assert project["analytics"]["publishedResultsUpdatedAt"] == run["endTime"]


def test_false_flags_publish_nothing(client: TestClient) -> None:
    project_id = published_project(client, FAILING_ON_DEMAND)
    finished(client, project_id, updateCache=False, updatePublishedResults=False)
    assert published_run(client, project_id).status_code == 404


def _tick_through_next_slot(runtime: Runtime, schedule: dict[str, Any]) -> None:
    slot = datetime.fromisoformat(schedule["nextFireAt"].replace("Z", "+00:00"))
    assert runtime.scheduler.tick(slot + timedelta(milliseconds=200)) is True


def _scheduled_runs(client: TestClient, project_id: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = client.get(
        f"/api/v1/projects/{project_id}/runs", params={"runTriggerFilter": "SCHEDULED"}
    ).json()["runs"]
    return runs


def _every_minute(**extra: Any) -> dict[str, Any]:
    return {"cadence": "CUSTOM", "timezone": "UTC", "custom": {"cron": "* * * * *"}, **extra}


def test_a_scheduled_run_refreshes_the_published_app_and_a_failed_one_does_not(
    client: TestClient, runtime: Runtime
) -> None:
    project_id = published_project(client, FAILING_ON_DEMAND)
    schedules = f"/api/v1/projects/{project_id}/schedules"
    good = client.post(schedules, json=_every_minute())
    assert good.status_code == 201, good.text
    assert good.json()["updatePublishedResults"] is True
    _tick_through_next_slot(runtime, good.json())
    (scheduled,) = _scheduled_runs(client, project_id)
    assert wait_for_end(client, project_id, scheduled["runId"])["status"] == "COMPLETED"
    assert published_run(client, project_id).json()["runId"] == scheduled["runId"]
    client.patch(f"{schedules}/{good.json()['id']}", json={"enabled": False})

    failing = client.post(schedules, json=_every_minute(inputParams={"fail": 1}))
    assert failing.status_code == 201, failing.text
    _tick_through_next_slot(runtime, failing.json())
    failed = next(r for r in _scheduled_runs(client, project_id) if r["inputParams"].get("fail"))
    assert wait_for_end(client, project_id, failed["runId"])["status"] == "ERRORED"
    assert published_run(client, project_id).json()["runId"] == scheduled["runId"]


def test_a_schedule_that_opts_out_leaves_the_published_results_alone(
    client: TestClient, runtime: Runtime
) -> None:
    project_id = published_project(client, FAILING_ON_DEMAND)
    schedules = f"/api/v1/projects/{project_id}/schedules"
    created = client.post(schedules, json=_every_minute(updatePublishedResults=False))
    assert created.status_code == 201 and created.json()["updatePublishedResults"] is False
    _tick_through_next_slot(runtime, created.json())
    (scheduled,) = _scheduled_runs(client, project_id)
    assert wait_for_end(client, project_id, scheduled["runId"])["status"] == "COMPLETED"
    assert published_run(client, project_id).status_code == 404
    patched = client.patch(
        f"{schedules}/{created.json()['id']}", json={"updatePublishedResults": True}
    )
    assert patched.json()["updatePublishedResults"] is True


def test_app_viewers_may_run_the_app_but_not_update_its_published_results(
    client: TestClient,
) -> None:
    owner = person(client, "owner")
    viewer = person(client, "viewer", role="EDITOR")
    project_id = owned_project(client, owner)
    assert share_users(client, project_id, (viewer.id, "APP_ONLY")).status_code == 200
    runs = f"/api/v1/projects/{project_id}/runs"
    for body in ({"updatePublishedResults": True}, {"updateCache": True}):
        refused = client.post(runs, json=body, headers=viewer.headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "FORBIDDEN"
    assert client.get(runs).json()["runs"] == []
    plain = client.post(runs, json={"updateCache": False}, headers=viewer.headers)
    assert plain.status_code == 201, plain.text
    wait_for_end(client, project_id, plain.json()["runId"])
    assert share_users(client, project_id, (viewer.id, "CAN_EDIT")).status_code == 200
    allowed = client.post(runs, json={"updatePublishedResults": True}, headers=viewer.headers)
    assert allowed.status_code == 201, allowed.text
    wait_for_end(client, project_id, allowed.json()["runId"])
    shown = published_run(client, project_id, headers=viewer.headers)
    assert shown.json()["runId"] == allowed.json()["runId"]
