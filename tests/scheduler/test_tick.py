"""The scheduler's tick: due slots fire exactly once, with catch-up, overlap and DST rules.

Ticks are driven directly with chosen instants; the executor is not started, so fired runs
stay PENDING and nothing but the scheduler touches them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from tests.cast import AUTH, notebook, published_project

from runyard.app import Runtime, build_runtime, create_app
from runyard.config import Settings

T0 = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def quiet_runtime(settings_values: dict[str, Any]) -> Iterator[Runtime]:
    # A long allocation timeout: simulated days pass between ticks, and upkeep must not end
    # the PENDING runs the overlap rules look at.
    values = {**settings_values, "kernel_allocation_timeout_seconds": 10**8}
    runtime = build_runtime(Settings(**values), migrate=False)
    yield runtime
    runtime.db.dispose()


@pytest.fixture
def api(quiet_runtime: Runtime) -> TestClient:
    # No lifespan: neither the executor nor the scheduler loop runs; the test ticks.
    return TestClient(create_app(quiet_runtime, background=False), headers=AUTH)


@pytest.fixture
def project_id(api: TestClient) -> str:
    return published_project(api, notebook("print(n)", parameters="n = 1"))


def add_schedule(api: TestClient, project_id: str, at: datetime, **body: Any) -> str:
    with time_machine.travel(at, tick=False):
        response = api.post(f"/api/v1/projects/{project_id}/schedules", json=body)
    assert response.status_code == 201, response.text
    schedule_id: str = response.json()["id"]
    return schedule_id


def runs(api: TestClient, project_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.get(
        f"/api/v1/projects/{project_id}/runs", params={"limit": 100}
    ).json()["runs"]
    return sorted(found, key=lambda run: run["scheduledFor"] or "")


def slots(api: TestClient, project_id: str) -> list[str]:
    return [run["scheduledFor"] for run in runs(api, project_id)]


def skipped(api: TestClient, project_id: str, schedule_id: str) -> list[dict[str, Any]]:
    url = f"/api/v1/projects/{project_id}/schedules/{schedule_id}/skipped-slots"
    values: list[dict[str, Any]] = api.get(url).json()["values"]
    return sorted(values, key=lambda s: s["scheduledFor"])


def hourly(minute: int = 0, zone: str = "UTC", **extra: Any) -> dict[str, Any]:
    return {"cadence": "HOURLY", "hourly": {"timezone": zone, "minute": minute}, **extra}


def test_a_due_slot_fires_once_however_often_the_tick_runs(
    api: TestClient, quiet_runtime: Runtime, project_id: str
) -> None:
    add_schedule(api, project_id, T0, **hourly(inputParams={"n": 7}))
    slot = T0 + timedelta(hours=1)
    assert quiet_runtime.scheduler.tick(slot - timedelta(seconds=1)) is False
    assert quiet_runtime.scheduler.tick(slot + timedelta(milliseconds=300)) is True
    for _ in range(3):
        quiet_runtime.scheduler.tick(slot + timedelta(seconds=2))
    fired = runs(api, project_id)
    assert len(fired) == 1
    run = fired[0]
    assert run["runTrigger"] == "SCHEDULED"
    assert run["scheduledFor"] == "2026-03-06T13:00:00.000Z"
    assert run["inputParams"] == {"n": 7}
    assert run["latenessMs"] == 300
    filtered = api.get(
        f"/api/v1/projects/{project_id}/runs", params={"runTriggerFilter": "SCHEDULED"}
    ).json()["runs"]
    assert [r["runId"] for r in filtered] == [run["runId"]]


def test_after_downtime_latest_fires_only_the_most_recent_slot_and_records_the_rest(
    api: TestClient, quiet_runtime: Runtime, project_id: str
) -> None:
    schedule_id = add_schedule(api, project_id, T0, **hourly())
    quiet_runtime.scheduler.tick(T0 + timedelta(hours=5, minutes=30))
    assert slots(api, project_id) == ["2026-03-06T17:00:00.000Z"]
    missed = skipped(api, project_id, schedule_id)
    assert [s["scheduledFor"][11:16] for s in missed] == ["13:00", "14:00", "15:00", "16:00"]
    assert {s["kind"] for s in missed} == {"MISSED"}


def test_after_downtime_skip_fires_nothing_and_all_fires_everything(
    api: TestClient, quiet_runtime: Runtime, project_id: str
) -> None:
    skipper = add_schedule(api, project_id, T0, **hourly(minute=10, catchUp="skip"))
    everything = add_schedule(api, project_id, T0, **hourly(minute=20, catchUp="all"))
    quiet_runtime.scheduler.tick(T0 + timedelta(hours=3, minutes=30))
    fired = runs(api, project_id)
    assert {r["scheduleId"] for r in fired} == {everything}
    assert [r["scheduledFor"][11:16] for r in fired] == ["12:20", "13:20", "14:20", "15:20"]
    assert len(skipped(api, project_id, skipper)) == 4
    assert skipped(api, project_id, everything) == []


def test_the_next_slot_after_downtime_fires_on_time_again(
    api: TestClient, quiet_runtime: Runtime, project_id: str
) -> None:
    add_schedule(api, project_id, T0, **hourly())
    quiet_runtime.scheduler.tick(T0 + timedelta(hours=2, minutes=30))
    quiet_runtime.scheduler.tick(T0 + timedelta(hours=3, seconds=1))
    assert slots(api, project_id)[-2:] == ["2026-03-06T14:00:00.000Z", "2026-03-06T15:00:00.000Z"]


def test_overlap_skip_records_the_slot_while_the_previous_run_is_active(
    api: TestClient, quiet_runtime: Runtime, project_id: str
) -> None:
    schedule_id = add_schedule(api, project_id, T0, **hourly(overlap="skip"))
    quiet_runtime.scheduler.tick(T0 + timedelta(hours=1, seconds=1))
    quiet_runtime.scheduler.tick(T0 + timedelta(hours=2, seconds=1))
    assert slots(api, project_id) == ["2026-03-06T13:00:00.000Z"]
    [entry] = skipped(api, project_id, schedule_id)
    assert entry["kind"] == "SKIPPED_OVERLAP"
    assert entry["scheduledFor"] == "2026-03-06T14:00:00.000Z"


def test_overlap_cancel_previous_kills_the_active_run_and_fires(
    api: TestClient, quiet_runtime: Runtime, project_id: str
) -> None:
    add_schedule(api, project_id, T0, **hourly(overlap="cancel_previous"))
    quiet_runtime.scheduler.tick(T0 + timedelta(hours=1, seconds=1))
    quiet_runtime.scheduler.tick(T0 + timedelta(hours=2, seconds=1))
    first, second = runs(api, project_id)
    assert first["status"] == "KILLED"
    assert second["status"] == "PENDING"


def test_overlap_allow_lets_runs_pile_up(
    api: TestClient, quiet_runtime: Runtime, project_id: str
) -> None:
    add_schedule(api, project_id, T0, **hourly())
    quiet_runtime.scheduler.tick(T0 + timedelta(hours=1, seconds=1))
    quiet_runtime.scheduler.tick(T0 + timedelta(hours=2, seconds=1))
    assert [r["status"] for r in runs(api, project_id)] == ["PENDING", "PENDING"]


def test_resuming_a_paused_schedule_never_fires_the_paused_slots(
    api: TestClient, quiet_runtime: Runtime, project_id: str
) -> None:
    schedule_id = add_schedule(api, project_id, T0, **hourly(catchUp="all"))
    url = f"/api/v1/projects/{project_id}/schedules/{schedule_id}"
    api.patch(url, json={"enabled": False})
    quiet_runtime.scheduler.tick(T0 + timedelta(hours=3))
    with time_machine.travel(T0 + timedelta(hours=3, minutes=30), tick=False):
        api.patch(url, json={"enabled": True})
    quiet_runtime.scheduler.tick(T0 + timedelta(hours=4, seconds=1))
    assert slots(api, project_id) == ["2026-03-06T16:00:00.000Z"]
    assert skipped(api, project_id, schedule_id) == []


def test_inputs_that_no_longer_fit_a_new_version_are_recorded_not_run(
    api: TestClient, quiet_runtime: Runtime, project_id: str
) -> None:
    import json

    schedule_id = add_schedule(api, project_id, T0, **hourly(inputParams={"n": 3}))
    api.put(
        f"/api/v1/projects/{project_id}/notebook",
        content=json.dumps(notebook("print(m)", parameters="m = 1")),
        headers={"Content-Type": "application/json"},
    )
    api.post(f"/api/v1/projects/{project_id}/publish")
    quiet_runtime.scheduler.tick(T0 + timedelta(hours=1, seconds=1))
    assert runs(api, project_id) == []
    [entry] = skipped(api, project_id, schedule_id)
    assert entry["kind"] == "INVALID_INPUTS"
    assert "inputParams.n" in entry["reason"]


def test_daily_fires_once_across_new_yorks_spring_forward_and_fall_back(
    api: TestClient, quiet_runtime: Runtime, project_id: str
) -> None:
    start = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
    add_schedule(
        api,
        project_id,
        start,
        cadence="DAILY",
        daily={"timezone": "America/New_York", "hour": 2, "minute": 30},
    )
    # Tick every 10 minutes across the spring-forward night (8 March).
    now = start
    while now < datetime(2026, 3, 10, tzinfo=UTC):
        quiet_runtime.scheduler.tick(now)
        now += timedelta(minutes=10)
    assert slots(api, project_id) == [
        "2026-03-07T07:30:00.000Z",
        "2026-03-08T07:00:00.000Z",  # 02:30 does not exist: fired once at 03:00 EDT
        "2026-03-09T06:30:00.000Z",
    ]


def test_hourly_fires_every_elapsed_hour_through_fall_back(
    api: TestClient, quiet_runtime: Runtime, project_id: str
) -> None:
    start = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)  # 23:00 EDT on 31 October
    add_schedule(api, project_id, start, **hourly(minute=30, zone="America/New_York"))
    now = start
    while now < datetime(2026, 11, 1, 9, 0, tzinfo=UTC):
        quiet_runtime.scheduler.tick(now)
        now += timedelta(minutes=5)
    fired = slots(api, project_id)
    assert fired == [f"2026-11-01T0{h}:30:00.000Z" for h in range(3, 9)]
