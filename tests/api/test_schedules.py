"""/api/v1/projects/{projectId}/schedules (Runyard extension) and the project's `schedules`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient

from tests.cast import notebook, published_project

NOW = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)  # a Friday, two days before New York's DST


@pytest.fixture
def project_id(client: TestClient) -> str:
    return published_project(client, notebook("print(n)", parameters="n = 1\nregion = 'eu'"))


def create(client: TestClient, project_id: str, **body: Any) -> Any:
    return client.post(f"/api/v1/projects/{project_id}/schedules", json=body)


def test_it_creates_a_schedule_with_its_next_five_fire_times_in_utc_and_local(
    client: TestClient, project_id: str
) -> None:
    with time_machine.travel(NOW, tick=False):
        response = create(
            client,
            project_id,
            cadence="DAILY",
            daily={"timezone": "America/New_York", "hour": 2, "minute": 30},
            inputParams={"n": "5"},
        )
    assert response.status_code == 201, response.text
    schedule = response.json()
    assert schedule["daily"] == {"timezone": "America/New_York", "minute": 30, "hour": 2}
    assert schedule["hourly"] is None and schedule["custom"] is None
    assert schedule["inputParams"] == {"n": 5}
    assert schedule["catchUp"] == "latest" and schedule["overlap"] == "allow"
    assert "Every day at 02:30" in schedule["description"]
    times = schedule["nextFireTimes"]
    assert [t["utc"] for t in times] == [
        "2026-03-07T07:30:00.000Z",
        "2026-03-08T07:00:00.000Z",  # 02:30 does not exist on the 8th: the gap's end, 03:00
        "2026-03-09T06:30:00.000Z",
        "2026-03-10T06:30:00.000Z",
        "2026-03-11T06:30:00.000Z",
    ]
    assert times[0]["local"] == "2026-03-07T02:30:00-05:00"
    assert times[2]["local"] == "2026-03-09T02:30:00-04:00"


def test_the_project_shows_its_schedules_in_hexs_shape(client: TestClient, project_id: str) -> None:
    create(client, project_id, cadence="HOURLY", hourly={"timezone": "UTC", "minute": 15})
    create(
        client,
        project_id,
        cadence="CUSTOM",
        timezone="Europe/Berlin",
        custom={"cron": "*/15 9-17 * * MON-FRI"},
        enabled=False,
    )
    schedules = client.get(f"/api/v1/projects/{project_id}").json()["schedules"]
    assert schedules == [
        {
            "cadence": "HOURLY",
            "enabled": True,
            "hourly": {"timezone": "UTC", "minute": 15},
            "daily": None,
            "weekly": None,
            "monthly": None,
            "custom": None,
        },
        {
            "cadence": "CUSTOM",
            "enabled": False,
            "hourly": None,
            "daily": None,
            "weekly": None,
            "monthly": None,
            "custom": {"timezone": "Europe/Berlin", "cron": "*/15 9-17 * * MON-FRI"},
        },
    ]
    listed = client.get("/api/v1/projects").json()["values"][0]["schedules"]
    assert len(listed) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cadence": "CUSTOM", "custom": {"timezone": "UTC", "cron": "61 * * * *"}}, "custom.cron"),
        (
            {"cadence": "CUSTOM", "custom": {"timezone": "UTC", "cron": "* * * * * *"}},
            "custom.cron",
        ),
        (
            {"cadence": "DAILY", "daily": {"timezone": "Mars/Olympus", "hour": 1, "minute": 0}},
            "timezone",
        ),
        (
            {
                "cadence": "MONTHLY",
                "monthly": {"timezone": "UTC", "day": 31, "hour": 1, "minute": 0},
            },
            "monthly.day",
        ),
        (
            {
                "cadence": "HOURLY",
                "hourly": {"timezone": "UTC", "minute": 0},
                "inputParams": {"nn": 1},
            },
            "inputParams",
        ),
        (
            {
                "cadence": "HOURLY",
                "hourly": {"timezone": "UTC", "minute": 0},
                "inputParams": {"n": "ten"},
            },
            "inputParams",
        ),
        ({"cadence": "WEEKLY", "daily": {"timezone": "UTC", "hour": 1, "minute": 0}}, "weekly"),
        (
            {
                "cadence": "WEEKLY",
                "weekly": {"timezone": "UTC", "dayOfWeek": "FUNDAY", "hour": 1, "minute": 0},
            },
            "weekly.dayOfWeek",
        ),
        ({"cadence": "HOURLY", "hourly": {"minute": 0}}, "hourly.timezone"),
        ({"cadence": "YEARLY"}, "cadence"),
        ({"cadence": "HOURLY", "hourly": {"timezone": "UTC", "minute": "x"}}, "hourly.minute"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(
    client: TestClient, project_id: str, body: dict[str, Any], field: str
) -> None:
    response = create(client, project_id, **body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert any(issue["message"].startswith(field) for issue in error["issues"]), error
    assert client.get(f"/api/v1/projects/{project_id}/schedules").json()["values"] == []


def test_a_schedule_on_an_unpublished_project_is_a_422(client: TestClient) -> None:
    draft = client.post("/api/v1/projects", json={"title": "draft"}).json()["id"]
    response = create(client, draft, cadence="HOURLY", hourly={"timezone": "UTC", "minute": 0})
    assert response.status_code == 422
    assert "not been published" in response.json()["message"]


def test_pausing_and_resuming_recomputes_from_now(client: TestClient, project_id: str) -> None:
    with time_machine.travel(NOW, tick=False):
        schedule = create(
            client, project_id, cadence="HOURLY", hourly={"timezone": "UTC", "minute": 0}
        ).json()
    url = f"/api/v1/projects/{project_id}/schedules/{schedule['id']}"
    assert schedule["nextFireAt"] == "2026-03-06T13:00:00.000Z"
    paused = client.patch(url, json={"enabled": False}).json()
    assert paused["enabled"] is False and paused["nextFireAt"] is None
    with time_machine.travel(datetime(2026, 3, 7, 9, 30, tzinfo=UTC), tick=False):
        resumed = client.patch(url, json={"enabled": True}).json()
    assert resumed["nextFireAt"] == "2026-03-07T10:00:00.000Z"


def test_changing_the_cadence_or_zone_recomputes_the_next_fire_time(
    client: TestClient, project_id: str
) -> None:
    with time_machine.travel(NOW, tick=False):
        schedule = create(
            client, project_id, cadence="DAILY", daily={"timezone": "UTC", "hour": 18, "minute": 0}
        ).json()
        url = f"/api/v1/projects/{project_id}/schedules/{schedule['id']}"
        moved = client.patch(url, json={"timezone": "Asia/Kolkata"}).json()
        assert moved["daily"]["timezone"] == "Asia/Kolkata"
        assert moved["nextFireAt"] == "2026-03-06T12:30:00.000Z"
        weekly = client.patch(
            url,
            json={"cadence": "WEEKLY", "weekly": {"dayOfWeek": "MONDAY", "hour": 7, "minute": 0}},
        ).json()
    assert weekly["cadence"] == "WEEKLY" and weekly["daily"] is None
    assert weekly["weekly"]["timezone"] == "Asia/Kolkata"
    assert weekly["nextFireAt"] == "2026-03-09T01:30:00.000Z"


def test_a_bad_patch_changes_nothing(client: TestClient, project_id: str) -> None:
    schedule = create(
        client, project_id, cadence="HOURLY", hourly={"timezone": "UTC", "minute": 5}
    ).json()
    url = f"/api/v1/projects/{project_id}/schedules/{schedule['id']}"
    assert client.patch(url, json={"timezone": "Nowhere/Land"}).status_code == 422
    assert client.patch(url, json={"hourly": {"minute": 7}}).status_code == 422
    assert client.patch(url, json={"catchUp": "sometimes"}).status_code == 422
    assert client.get(url).json() == schedule


def test_delete_removes_it_and_unknown_ids_are_404(client: TestClient, project_id: str) -> None:
    schedule = create(
        client, project_id, cadence="HOURLY", hourly={"timezone": "UTC", "minute": 5}
    ).json()
    url = f"/api/v1/projects/{project_id}/schedules/{schedule['id']}"
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    other = f"/api/v1/projects/{project_id}/schedules/{uuid.uuid4()}"
    assert client.patch(other, json={"enabled": False}).status_code == 404
