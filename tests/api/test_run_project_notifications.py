"""RunProject's `notifications`: checked at trigger time (422, no run), shown in the run
answers as Hex's ProjectRunNotificationRecipient[], and delivered when a real kernel run
ends, through a real SMTP server and a stand-in for Slack's API."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cast import new_group, new_user, notebook, published_project, trigger, wait_for_end
from tests.notification_servers import (
    SLACK_TOKEN,
    Inbox,
    SlackApi,
    UnconfiguredChannel,
    inbox,
    settings_values,
    slack_api,
    unconfigured_channel,
)

__all__ = ["inbox", "settings_values", "slack_api", "unconfigured_channel"]  # fixtures used by name


def runs_of(client: TestClient, project_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/projects/{project_id}/runs")
    assert answer.status_code == 200, answer.text
    runs: list[dict[str, Any]] = answer.json()["runs"]
    return runs


def wait_for_mail(inbox: Inbox, address: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not inbox.to(address):
        assert time.monotonic() < deadline, f"no mail to {address} after {timeout}s"
        time.sleep(0.1)


def test_a_finished_run_emails_its_app_page_and_posts_to_slack(
    client: TestClient, inbox: Inbox, slack_api: SlackApi
) -> None:
    alice = new_user(client, "alice@example.test", name="Alice")
    project_id = published_project(client, notebook("print(6 * 7)"), title="Answers")
    notification = {
        "type": "SUCCESS",
        "includeSuccessScreenshot": True,
        "userIds": [alice["id"]],
        "slackChannelIds": ["C0123"],
        "subject": "Answers are in",
    }
    run_id = trigger(client, project_id, notifications=[notification])["runId"]
    assert wait_for_end(client, project_id, run_id)["status"] == "COMPLETED"
    wait_for_mail(inbox, "alice@example.test")

    [mail] = inbox.to("alice@example.test")
    assert mail["Subject"] == "Answers are in"
    assert mail["From"] == "runyard@example.test"
    text_part, html_part = list(mail.iter_parts())
    assert f"Run: {run_id}" in text_part.get_content()
    assert html_part.get_filename() == f"run-{run_id}.html"
    assert "42" in html_part.get_payload(decode=True).decode()  # type: ignore[union-attr]
    deadline = time.monotonic() + 30
    while not slack_api.posts:
        assert time.monotonic() < deadline, "nothing posted to Slack"
        time.sleep(0.1)
    [(_, auth, body)] = slack_api.posts
    assert auth == f"Bearer {SLACK_TOKEN}"
    assert body["channel"] == "C0123"


def test_the_run_answers_list_the_recipients(client: TestClient) -> None:
    alice = new_user(client, "alice@example.test", name="Alice")
    team = new_group(client, "Team", [alice["id"]])
    project_id = published_project(client, notebook("1"))
    triggered = trigger(
        client,
        project_id,
        notifications=[
            {
                "type": "FAILURE",
                "includeSuccessScreenshot": False,
                "screenshotFormat": "pdf",
                "userIds": [alice["id"]],
                "groupIds": [team],
                "slackChannelIds": ["C0123"],
                "body": "Look",
            }
        ],
    )
    expected = [
        {
            "type": "FAILURE",
            "recipientType": "USER",
            "includeSuccessScreenshot": False,
            "recipient": {"id": alice["id"], "name": "Alice"},
            "body": "Look",
            "screenshotFormat": ["pdf"],
        },
        {
            "type": "FAILURE",
            "recipientType": "GROUP",
            "includeSuccessScreenshot": False,
            "recipient": {"id": team, "name": "Team"},
            "body": "Look",
            "screenshotFormat": ["pdf"],
        },
        {
            "type": "FAILURE",
            "recipientType": "SLACK_CHANNEL",
            "includeSuccessScreenshot": False,
            "recipient": {"id": "C0123", "name": "C0123"},
            "body": "Look",
            "screenshotFormat": ["pdf"],
        },
    ]
    assert triggered["notifications"] == expected
    run_id = triggered["runId"]
    status = client.get(f"/api/v1/projects/{project_id}/runs/{run_id}").json()
    assert status["notifications"] == expected
    legacy = client.get(f"/api/v1/project/{project_id}/run/{run_id}").json()
    assert legacy["notifications"] == expected
    assert runs_of(client, project_id)[0]["notifications"] == expected


def test_a_run_without_recipients_has_no_notifications_field(client: TestClient) -> None:
    project_id = published_project(client, notebook("1"))
    # What dagster-hex and Airflow send when no one is to be notified.
    empty = {
        "type": "ALL",
        "includeSuccessScreenshot": False,
        "slackChannelIds": [],
        "userIds": [],
        "groupIds": [],
    }
    triggered = trigger(client, project_id, notifications=[empty])
    assert "notifications" not in triggered
    status = client.get(f"/api/v1/projects/{project_id}/runs/{triggered['runId']}").json()
    assert "notifications" not in status
    assert "notifications" not in runs_of(client, project_id)[0]


@pytest.mark.parametrize(
    ("field", "ids", "named"),
    [
        ("userIds", ["00000000-0000-0000-0000-000000000001"], "notifications[0].userIds"),
        ("groupIds", ["00000000-0000-0000-0000-000000000002"], "notifications[0].groupIds"),
    ],
)
def test_unknown_recipients_are_refused_and_no_run_is_created(
    client: TestClient, field: str, ids: list[str], named: str
) -> None:
    project_id = published_project(client, notebook("1"))
    answer = client.post(
        f"/api/v1/projects/{project_id}/runs",
        json={"notifications": [{"type": "ALL", "includeSuccessScreenshot": False, field: ids}]},
    )
    assert answer.status_code == 422, answer.text
    assert named in answer.json()["message"]
    assert ids[0] in answer.json()["message"]
    assert runs_of(client, project_id) == []


def test_a_channel_that_is_not_configured_is_refused(
    unconfigured_channel: UnconfiguredChannel,
) -> None:
    client, project_id = unconfigured_channel.client, unconfigured_channel.project_id
    answer = client.post(
        f"/api/v1/projects/{project_id}/runs",
        json={"notifications": unconfigured_channel.notifications()},
    )
    unconfigured_channel.assert_refused(answer)
    assert runs_of(client, project_id) == []
