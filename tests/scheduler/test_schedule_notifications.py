"""Runs a schedule fires carry its notifications and are delivered through the outbox, once
per recipient, to a real SMTP server and a real HTTP stand-in for Slack's API.

Most tests tick the scheduler at chosen instants with the executor off, end the fired run by
the compare-and-set the worker uses, and drive delivery with a chosen `now`, as the
scheduler's delivery thread does. The last one lets a running server do all of it with a
real kernel.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from fastapi.testclient import TestClient
from tests.cast import AUTH, new_group, new_user, notebook, published_project
from tests.notification_servers import (
    Inbox,
    SlackApi,
    delivered_once,
    delivery_service,
    inbox,
    notifying_settings,
    slack_api,
    text_of,
)

from runyard.app import Runtime, build_scheduler, create_app
from runyard.config import Settings
from runyard.domain.run_status import RunStatus
from runyard.store import runs as run_store
from runyard.store.notifications import NotificationDeliveryRow, NotificationPlanRow
from runyard.store.schedules import ScheduleRow

__all__ = ["inbox", "slack_api"]  # fixtures used by name

T0 = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
SLOT = T0 + timedelta(hours=1)


@pytest.fixture
def settings_values(
    settings_values: dict[str, Any], inbox: Inbox, slack_api: SlackApi
) -> dict[str, Any]:
    # A long allocation timeout: upkeep must not end the PENDING runs the ticks leave.
    return {
        **settings_values,
        **notifying_settings(inbox, slack_api),
        "kernel_allocation_timeout_seconds": 10**8,
    }


@pytest.fixture
def api(runtime: Runtime) -> TestClient:
    # No lifespan: neither the executor nor the scheduler loop runs; the test ticks.
    return TestClient(create_app(runtime, background=False), headers=AUTH)


@pytest.fixture
def project_id(api: TestClient) -> str:
    return published_project(api, notebook("1"), title="Nightly")


def add_schedule(api: TestClient, project_id: str, notifications: list[dict[str, Any]]) -> str:
    with time_machine.travel(T0, tick=False):
        response = api.post(
            f"/api/v1/projects/{project_id}/schedules",
            json={
                "cadence": "HOURLY",
                "hourly": {"timezone": "UTC", "minute": 0},
                "notifications": notifications,
            },
        )
    assert response.status_code == 201, response.text
    schedule_id: str = response.json()["id"]
    return schedule_id


def fired_runs(api: TestClient, project_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.get(f"/api/v1/projects/{project_id}/runs").json()["runs"]
    return sorted(found, key=lambda run: run["scheduledFor"])


def end(runtime: Runtime, run_id: str, status: RunStatus) -> None:
    """End a PENDING run as its worker would."""
    with runtime.db.write() as session:
        run = run_store.get_run(session, run_id)
        assert run is not None
        assert run_store.transition(session, run_id, RunStatus.RUNNING, started_at=run.created_at)
        error = None if status is RunStatus.COMPLETED else {"message": "ValueError: no rows"}
        assert run_store.transition(
            session, run_id, status, ended_at=run.created_at + timedelta(seconds=2), error=error
        )


def plans(runtime: Runtime) -> list[str]:
    with runtime.db.read() as session:
        return list(session.scalars(sa.select(NotificationPlanRow.run_id)))


def test_a_scheduled_run_that_errors_notifies_its_failure_recipients_once(
    api: TestClient, runtime: Runtime, project_id: str, inbox: Inbox, slack_api: SlackApi
) -> None:
    alice = new_user(api, "alice@example.test", name="Alice")
    schedule_id = add_schedule(
        api,
        project_id,
        [{"type": "FAILURE", "userIds": [alice["id"]], "slackChannelIds": ["C0123"]}],
    )
    schedule = api.get(f"/api/v1/projects/{project_id}/schedules/{schedule_id}").json()

    assert runtime.scheduler.tick(SLOT + timedelta(seconds=1)) is True
    [run] = fired_runs(api, project_id)
    assert run["notifications"] == schedule["notificationRecipients"]
    assert [(r["recipientType"], r["recipient"]["name"]) for r in run["notifications"]] == [
        ("USER", "Alice"),
        ("SLACK_CHANNEL", "C0123"),
    ]
    status = api.get(f"/api/v1/projects/{project_id}/runs/{run['runId']}").json()
    assert status["notifications"] == run["notifications"]

    # Nothing is sent while the run is still going.
    assert (
        delivery_service(runtime, SLOT).deliver_due(SLOT + timedelta(seconds=2)).found_work is False
    )
    end(runtime, run["runId"], RunStatus.ERRORED)
    report = delivered_once(runtime, SLOT + timedelta(seconds=5))
    assert (report.expanded, report.sent) == (1, 2)

    [mail] = inbox.to("alice@example.test")
    assert mail["Subject"] == "[Runyard] Nightly: run ERRORED"
    text = text_of(mail)
    assert f"Run: {run['runId']}" in text
    assert "Error: ValueError: no rows" in text
    [(_, _, post)] = slack_api.posts
    assert post["channel"] == "C0123"


def test_a_success_only_schedule_sends_nothing_when_its_run_fails(
    api: TestClient, runtime: Runtime, project_id: str, inbox: Inbox, slack_api: SlackApi
) -> None:
    alice = new_user(api, "alice@example.test")
    team = new_group(api, "Team", [alice["id"]])
    add_schedule(
        api,
        project_id,
        [{"type": "SUCCESS", "groupIds": [team], "slackChannelIds": ["C0123"]}],
    )
    runtime.scheduler.tick(SLOT + timedelta(seconds=1))
    [run] = fired_runs(api, project_id)
    end(runtime, run["runId"], RunStatus.ERRORED)
    report = delivery_service(runtime, SLOT).deliver_due(SLOT + timedelta(seconds=5))
    assert (report.expanded, report.sent) == (1, 0)
    assert inbox.messages == []
    assert slack_api.posts == []


def test_every_run_a_schedule_fires_is_notified_on_its_own(
    api: TestClient, runtime: Runtime, project_id: str, inbox: Inbox
) -> None:
    alice = new_user(api, "alice@example.test")
    add_schedule(api, project_id, [{"type": "ALL", "userIds": [alice["id"]]}])
    runtime.scheduler.tick(SLOT + timedelta(seconds=1))
    runtime.scheduler.tick(SLOT + timedelta(hours=1, seconds=1))
    first, second = fired_runs(api, project_id)
    end(runtime, first["runId"], RunStatus.COMPLETED)
    end(runtime, second["runId"], RunStatus.KILLED)
    assert delivery_service(runtime, SLOT).deliver_due(SLOT + timedelta(hours=2)).sent == 2
    subjects = sorted(mail["Subject"] for mail in inbox.to("alice@example.test"))
    assert subjects == ["[Runyard] Nightly: run COMPLETED", "[Runyard] Nightly: run KILLED"]


def test_two_schedulers_that_race_for_a_slot_notify_once(
    api: TestClient,
    runtime: Runtime,
    settings_values: dict[str, Any],
    project_id: str,
    inbox: Inbox,
) -> None:
    alice = new_user(api, "alice@example.test")
    schedule_id = add_schedule(api, project_id, [{"type": "FAILURE", "userIds": [alice["id"]]}])
    other, other_db = build_scheduler(Settings(**settings_values))
    try:
        runtime.scheduler.tick(SLOT + timedelta(seconds=1))
        # The other scheduler read the schedule before the first one's commit: it still
        # sees the slot as due and fires it again. The runs' unique (schedule, slot) turns
        # its insert away, and with it the notification plan.
        with runtime.db.write() as session:
            row = session.get(ScheduleRow, schedule_id)
            assert row is not None
            row.next_fire_at = SLOT
        other.tick(SLOT + timedelta(seconds=2))
    finally:
        other_db.dispose()
    [run] = fired_runs(api, project_id)
    assert plans(runtime) == [run["runId"]]

    end(runtime, run["runId"], RunStatus.ERRORED)
    first, second = delivery_service(runtime, SLOT), delivery_service(runtime, SLOT)
    assert first.deliver_due(SLOT + timedelta(minutes=1)).sent == 1
    assert second.deliver_due(SLOT + timedelta(minutes=1)).found_work is False
    assert len(inbox.to("alice@example.test")) == 1


def test_a_schedule_without_notifications_fires_runs_that_notify_no_one(
    api: TestClient, runtime: Runtime, project_id: str
) -> None:
    # Empty lists, as Hex clients send them, name no one.
    add_schedule(api, project_id, [{"type": "ALL", "userIds": [], "slackChannelIds": []}])
    runtime.scheduler.tick(SLOT + timedelta(seconds=1))
    [run] = fired_runs(api, project_id)
    assert "notifications" not in run
    assert plans(runtime) == []


def test_an_edit_of_the_notifications_applies_to_the_runs_fired_after_it(
    api: TestClient, runtime: Runtime, project_id: str
) -> None:
    alice = new_user(api, "alice@example.test")
    bob = new_user(api, "bob@example.test", name="Bob")
    schedule_id = add_schedule(api, project_id, [{"type": "FAILURE", "userIds": [alice["id"]]}])
    url = f"/api/v1/projects/{project_id}/schedules/{schedule_id}"
    runtime.scheduler.tick(SLOT + timedelta(seconds=1))
    to_bob = [{"type": "ALL", "userIds": [bob["id"]]}]
    assert api.patch(url, json={"notifications": to_bob}).status_code == 200
    runtime.scheduler.tick(SLOT + timedelta(hours=1, seconds=1))
    assert api.patch(url, json={"notifications": []}).status_code == 200
    runtime.scheduler.tick(SLOT + timedelta(hours=2, seconds=1))
    first, second, third = fired_runs(api, project_id)
    assert [r["recipient"]["id"] for r in first["notifications"]] == [alice["id"]]
    assert [(r["type"], r["recipient"]["name"]) for r in second["notifications"]] == [
        ("ALL", "Bob")
    ]
    assert "notifications" not in third
    assert sorted(plans(runtime)) == sorted([first["runId"], second["runId"]])


# -- the whole path, with a running server and a real kernel ---------------------------------


@pytest.fixture
def server(runtime: Runtime) -> Iterator[TestClient]:
    """The app with its executor, scheduler loop and delivery thread running."""
    with TestClient(create_app(runtime), headers=AUTH) as client:
        yield client


@pytest.mark.kernel
def test_a_scheduled_notebook_that_raises_emails_its_owner_once(
    server: TestClient, runtime: Runtime, inbox: Inbox
) -> None:
    alice = new_user(server, "alice@example.test")
    project_id = published_project(server, notebook("raise ValueError('no rows today')"))
    # A daily slot at the current minute, saved a minute before it: due now.
    slot = datetime.now(UTC).replace(second=0, microsecond=0)
    with time_machine.travel(slot - timedelta(minutes=1), tick=False):
        created = server.post(
            f"/api/v1/projects/{project_id}/schedules",
            json={
                "cadence": "DAILY",
                "daily": {"timezone": "UTC", "hour": slot.hour, "minute": slot.minute},
                "notifications": [{"type": "FAILURE", "userIds": [alice["id"]]}],
            },
        )
    assert created.status_code == 201, created.text
    # The server's own loop may fire the slot first: it fires once either way.
    runtime.scheduler.tick()

    deadline = time.monotonic() + 120
    while not inbox.to("alice@example.test"):
        assert time.monotonic() < deadline, "no mail after 120s"
        time.sleep(0.1)
    [run] = server.get(f"/api/v1/projects/{project_id}/runs").json()["runs"]
    assert run["status"] == "ERRORED"
    assert run["runTrigger"] == "SCHEDULED"
    [mail] = inbox.to("alice@example.test")
    assert run["runId"] in text_of(mail)
    assert "no rows today" in text_of(mail)
    with runtime.db.read() as session:
        deliveries = list(
            session.scalars(
                sa.select(NotificationDeliveryRow).where(
                    NotificationDeliveryRow.run_id == run["runId"]
                )
            )
        )
    assert [(d.recipient, d.status) for d in deliveries] == [("alice@example.test", "SENT")]
