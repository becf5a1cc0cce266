"""Run notifications are delivered once per recipient through the outbox, to a real SMTP
server and a real HTTP stand-in for Slack's API, on SQLite and PostgreSQL.

Runs are triggered through the API of an app whose background machinery is off, then ended
by the same compare-and-set the worker uses; delivery is driven by calling the service's
upkeep with a chosen `now`, as the scheduler's tick does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.cast import new_group, new_user, notebook, published_project
from tests.conftest import BOOTSTRAP_TOKEN
from tests.notification_servers import (
    SLACK_TOKEN,
    Inbox,
    SlackApi,
    delivered_once,
    delivery_service,
    inbox,
    settings_values,
    slack_api,
    text_of,
)

from runyard.app import Runtime, build_runtime, create_app, notification_channels
from runyard.config import Settings
from runyard.domain.run_status import RunStatus
from runyard.store import runs as run_store
from runyard.store.notifications import NotificationDeliveryRow

__all__ = ["inbox", "settings_values", "slack_api"]  # fixtures used by name

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def api(runtime: Runtime) -> Iterator[TestClient]:
    """The API without executor or scheduler: runs stay PENDING until a test ends them."""
    with TestClient(
        create_app(runtime, background=False),
        headers={"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"},
    ) as client:
        yield client


@pytest.fixture
def project_id(api: TestClient) -> str:
    return published_project(api, notebook("print('hi')"), title="Revenue")


def run_ending(
    api: TestClient,
    runtime: Runtime,
    project_id: str,
    status: RunStatus,
    notifications: list[dict[str, Any]],
) -> str:
    response = api.post(
        f"/api/v1/projects/{project_id}/runs", json={"notifications": notifications}
    )
    assert response.status_code == 201, response.text
    run_id: str = response.json()["runId"]
    with runtime.db.write() as session:
        if status is not RunStatus.UNABLE_TO_ALLOCATE_KERNEL:
            assert run_store.transition(session, run_id, RunStatus.RUNNING, started_at=NOW)
        run = run_store.get_run(session, run_id)
        assert run is not None
        error = None if status is RunStatus.COMPLETED else {"message": "ZeroDivisionError"}
        assert run_store.transition(
            session, run_id, status, ended_at=run.created_at + timedelta(seconds=3), error=error
        )
    return run_id


def slack_texts(slack_api: SlackApi) -> list[str]:
    return [body["text"] for _, _, body in slack_api.posts]


def test_a_completed_run_notifies_its_success_recipients_once(
    api: TestClient, runtime: Runtime, project_id: str, inbox: Inbox, slack_api: SlackApi
) -> None:
    alice = new_user(api, "alice@example.test", name="Alice")
    run_id = run_ending(
        api,
        runtime,
        project_id,
        RunStatus.COMPLETED,
        [
            {
                "type": "SUCCESS",
                "includeSuccessScreenshot": False,
                "userIds": [alice["id"]],
                "slackChannelIds": ["C0123"],
            }
        ],
    )
    report = delivered_once(runtime, NOW)
    assert (report.expanded, report.sent) == (1, 2)

    [mail] = inbox.to("alice@example.test")
    assert mail["Subject"] == "[Runyard] Revenue: run COMPLETED"
    text = text_of(mail)
    assert f"Run: {run_id}" in text
    assert "Duration: 3.0s" in text
    assert f"http://127.0.0.1:8080/app/projects/{project_id}/runs/{run_id}" in text
    [(path, auth, body)] = slack_api.posts
    assert (path, auth, body["channel"]) == (
        "/api/chat.postMessage",
        f"Bearer {SLACK_TOKEN}",
        "C0123",
    )
    assert run_id in body["text"]


def test_a_failure_notification_is_not_sent_for_a_completed_run(
    api: TestClient, runtime: Runtime, project_id: str, inbox: Inbox, slack_api: SlackApi
) -> None:
    alice = new_user(api, "alice@example.test")
    run_ending(
        api,
        runtime,
        project_id,
        RunStatus.COMPLETED,
        [{"type": "FAILURE", "includeSuccessScreenshot": False, "userIds": [alice["id"]]}],
    )
    report = delivery_service(runtime, NOW).deliver_due(NOW)
    assert (report.expanded, report.sent) == (1, 0)
    assert inbox.messages == []


def test_an_errored_run_notifies_failure_and_all_recipients_once_each(
    api: TestClient, runtime: Runtime, project_id: str, inbox: Inbox, slack_api: SlackApi
) -> None:
    alice = new_user(api, "alice@example.test")
    bob = new_user(api, "bob@example.test")
    team = new_group(api, "Team", [alice["id"], bob["id"]])
    run_ending(
        api,
        runtime,
        project_id,
        RunStatus.ERRORED,
        [
            {
                "type": "FAILURE",
                "includeSuccessScreenshot": True,
                "userIds": [alice["id"]],
                "subject": "Revenue broke",
                "body": "Please look.",
            },
            {
                "type": "ALL",
                "includeSuccessScreenshot": False,
                "groupIds": [team],
                "slackChannelIds": ["C0123"],
            },
            {"type": "SUCCESS", "includeSuccessScreenshot": False, "slackChannelIds": ["C999"]},
        ],
    )
    assert delivery_service(runtime, NOW).deliver_due(NOW).sent == 3
    [to_alice] = inbox.to("alice@example.test")
    [to_bob] = inbox.to("bob@example.test")
    assert to_alice["Subject"] == "Revenue broke"
    assert not to_alice.is_multipart()  # no screenshot for a run that failed
    alice_text = text_of(to_alice)
    assert alice_text.startswith("Please look.")
    assert "Error: ZeroDivisionError" in alice_text
    assert to_bob["Subject"] == "[Runyard] Revenue: run ERRORED"
    assert [channel for _, _, body in slack_api.posts for channel in [body["channel"]]] == ["C0123"]


def test_a_run_that_never_got_a_kernel_counts_as_a_failure(
    api: TestClient, runtime: Runtime, project_id: str, slack_api: SlackApi
) -> None:
    run_ending(
        api,
        runtime,
        project_id,
        RunStatus.UNABLE_TO_ALLOCATE_KERNEL,
        [{"type": "FAILURE", "includeSuccessScreenshot": False, "slackChannelIds": ["C1"]}],
    )
    assert delivery_service(runtime, NOW).deliver_due(NOW).sent == 1
    assert "UNABLE_TO_ALLOCATE_KERNEL" in slack_texts(slack_api)[0]


def test_two_processes_never_send_a_notification_twice(
    api: TestClient, runtime: Runtime, project_id: str, inbox: Inbox, slack_api: SlackApi
) -> None:
    alice = new_user(api, "alice@example.test")
    for _ in range(3):
        run_ending(
            api,
            runtime,
            project_id,
            RunStatus.KILLED,
            [
                {
                    "type": "ALL",
                    "includeSuccessScreenshot": False,
                    "userIds": [alice["id"]],
                    "slackChannelIds": ["C1"],
                }
            ],
        )
    first, second = delivery_service(runtime, NOW), delivery_service(runtime, NOW)
    # The second process claims between the first's expansion and its sending: each
    # delivery is claimed by exactly one of them.
    assert first._expand(NOW) == 3
    taken_by_second = second.deliver_due(NOW)
    taken_by_first = first.deliver_due(NOW)
    assert taken_by_second.sent + taken_by_first.sent == 6
    assert first.deliver_due(NOW + timedelta(days=1)).found_work is False
    assert second.deliver_due(NOW + timedelta(days=1)).found_work is False
    assert len(inbox.to("alice@example.test")) == 3
    assert len(slack_api.posts) == 3


def test_an_smtp_outage_is_retried_until_the_server_takes_the_mail(
    api: TestClient, runtime: Runtime, project_id: str, inbox: Inbox
) -> None:
    alice = new_user(api, "alice@example.test")
    run_ending(
        api,
        runtime,
        project_id,
        RunStatus.COMPLETED,
        [{"type": "ALL", "includeSuccessScreenshot": False, "userIds": [alice["id"]]}],
    )
    notifier = delivery_service(runtime, NOW)
    inbox.refusing = True
    assert notifier.deliver_due(NOW).retried == 1
    # Not due again before its backoff is over.
    assert notifier.deliver_due(NOW + timedelta(seconds=10)).found_work is False
    assert notifier.deliver_due(NOW + timedelta(seconds=31)).retried == 1
    inbox.refusing = False
    assert notifier.deliver_due(NOW + timedelta(seconds=31 + 61)).sent == 1
    assert len(inbox.to("alice@example.test")) == 1


def test_a_delivery_is_given_up_after_its_last_attempt(
    api: TestClient, runtime: Runtime, project_id: str, inbox: Inbox
) -> None:
    alice = new_user(api, "alice@example.test")
    run_ending(
        api,
        runtime,
        project_id,
        RunStatus.COMPLETED,
        [{"type": "ALL", "includeSuccessScreenshot": False, "userIds": [alice["id"]]}],
    )
    notifier = delivery_service(runtime, NOW)
    inbox.refusing = True
    outcomes = [notifier.deliver_due(NOW + timedelta(days=day)) for day in range(6)]
    assert [o.retried for o in outcomes] == [1, 1, 1, 1, 0, 0]
    assert [o.failed for o in outcomes] == [0, 0, 0, 0, 1, 0]
    inbox.refusing = False
    assert notifier.deliver_due(NOW + timedelta(days=7)).found_work is False
    assert inbox.messages == []


@pytest.mark.parametrize("password", ["smtp-password-Q4x9", "wrong-password-Zt61"])
def test_the_smtp_password_and_slack_token_stay_out_of_logs_and_the_store(
    settings_values: dict[str, Any],
    inbox: Inbox,
    slack_api: SlackApi,
    caplog: pytest.LogCaptureFixture,
    password: str,
) -> None:
    settings = Settings(
        **{**settings_values, "smtp_username": "runyard", "smtp_password": password}
    )
    runtime = build_runtime(settings, migrate=False)
    try:
        with TestClient(
            create_app(runtime, background=False),
            headers={"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"},
        ) as api:
            caplog.set_level(logging.DEBUG)
            alice = new_user(api, "alice@example.test")
            project_id = published_project(api, notebook("1"))
            run_ending(
                api,
                runtime,
                project_id,
                RunStatus.ERRORED,
                [
                    {
                        "type": "ALL",
                        "includeSuccessScreenshot": False,
                        "userIds": [alice["id"]],
                        "slackChannelIds": ["C1"],
                    }
                ],
            )
            report = delivery_service(runtime, NOW).deliver_due(NOW)
            answers = api.get(f"/api/v1/projects/{project_id}/runs").text
            audit = api.get("/api/v1/audit").text
        with runtime.db.read() as session:
            errors = [
                str(d.last_error) for d in session.scalars(sa.select(NotificationDeliveryRow))
            ]
    finally:
        runtime.db.dispose()
    accepted = password == inbox.login[1]
    assert (report.sent, report.retried) == ((2, 0) if accepted else (1, 1))
    assert len(inbox.messages) == (1 if accepted else 0)
    seen = "\n".join(
        [
            caplog.text,
            answers,
            audit,
            *errors,
            repr(settings),
            repr(notification_channels(settings)),
        ]
    )
    assert password not in seen
    assert SLACK_TOKEN not in seen
