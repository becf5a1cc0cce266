"""A schedule's `notifications`: RunProject's shape and checks, on create and on PATCH.

The firing and the delivery of the runs they reach are in tests/scheduler/
test_schedule_notifications.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cast import new_group, new_user, notebook, published_project
from tests.notification_servers import (
    UnconfiguredChannel,
    inbox,
    settings_values,
    slack_api,
    unconfigured_channel,
)

__all__ = ["inbox", "settings_values", "slack_api", "unconfigured_channel"]  # fixtures used by name

DAILY = {"cadence": "DAILY", "daily": {"timezone": "UTC", "hour": 6, "minute": 0}}
UNKNOWN_ID = "00000000-0000-0000-0000-000000000001"


@pytest.fixture
def project_id(client: TestClient) -> str:
    return published_project(client, notebook("1"))


def schedules_url(project_id: str) -> str:
    return f"/api/v1/projects/{project_id}/schedules"


def create(client: TestClient, project_id: str, **body: Any) -> Any:
    return client.post(schedules_url(project_id), json={**DAILY, **body})


def schedules_of(client: TestClient, project_id: str) -> list[dict[str, Any]]:
    answer = client.get(schedules_url(project_id))
    assert answer.status_code == 200, answer.text
    values: list[dict[str, Any]] = answer.json()["values"]
    return values


def test_a_schedule_keeps_its_notifications_and_shows_who_they_reach(
    client: TestClient, project_id: str
) -> None:
    alice = new_user(client, "alice@example.test", name="Alice")
    team = new_group(client, "Team", [alice["id"]])
    notification = {
        "type": "FAILURE",
        "includeSuccessScreenshot": False,
        "userIds": [alice["id"]],
        "groupIds": [team],
        "slackChannelIds": ["C0123"],
        "subject": "Nightly load failed",
        "unknownKey": "not kept",
    }
    answer = create(client, project_id, notifications=[notification])
    assert answer.status_code == 201, answer.text
    schedule = answer.json()
    [kept] = schedule["notifications"]
    assert "unknownKey" not in kept
    assert kept["type"] == "FAILURE"
    assert kept["userIds"] == [alice["id"]]
    assert kept["groupIds"] == [team]
    assert kept["slackChannelIds"] == ["C0123"]
    assert kept["subject"] == "Nightly load failed"
    assert [(r["recipientType"], r["recipient"]) for r in schedule["notificationRecipients"]] == [
        ("USER", {"id": alice["id"], "name": "Alice"}),
        ("GROUP", {"id": team, "name": "Team"}),
        ("SLACK_CHANNEL", {"id": "C0123", "name": "C0123"}),
    ]
    assert {r["type"] for r in schedule["notificationRecipients"]} == {"FAILURE"}
    fetched = client.get(f"{schedules_url(project_id)}/{schedule['id']}").json()
    assert fetched["notifications"] == schedule["notifications"]
    assert fetched["notificationRecipients"] == schedule["notificationRecipients"]
    assert (
        schedules_of(client, project_id)[0]["notificationRecipients"]
        == (schedule["notificationRecipients"])
    )


def test_a_schedule_without_notifications_notifies_no_one(
    client: TestClient, project_id: str
) -> None:
    schedule = create(client, project_id).json()
    assert (schedule["notifications"], schedule["notificationRecipients"]) == ([], [])


@pytest.mark.parametrize("field", ["userIds", "groupIds"])
def test_unknown_recipients_are_refused_and_nothing_is_saved(
    client: TestClient, project_id: str, field: str
) -> None:
    alice = new_user(client, "alice@example.test")
    # Only the second notification is wrong: the refusal names its index.
    answer = create(
        client,
        project_id,
        notifications=[
            {"type": "ALL", "userIds": [alice["id"]]},
            {"type": "ALL", field: [UNKNOWN_ID]},
        ],
    )
    assert answer.status_code == 422, answer.text
    assert f"notifications[1].{field}" in answer.json()["message"]
    assert UNKNOWN_ID in answer.json()["message"]
    assert schedules_of(client, project_id) == []


def test_a_deactivated_user_is_refused(client: TestClient, project_id: str) -> None:
    gone = new_user(client, "gone@example.test")
    assert client.post(f"/api/v1/users/{gone['id']}/deactivate").status_code == 200
    answer = create(
        client, project_id, notifications=[{"type": "FAILURE", "userIds": [gone["id"]]}]
    )
    assert answer.status_code == 422, answer.text
    assert f"notifications[0].userIds: no active user(s) {gone['id']}" in answer.json()["message"]
    assert schedules_of(client, project_id) == []


def test_a_channel_that_is_not_configured_is_refused_on_create_and_on_edit(
    unconfigured_channel: UnconfiguredChannel,
) -> None:
    client, project_id = unconfigured_channel.client, unconfigured_channel.project_id
    notifications = unconfigured_channel.notifications("FAILURE")

    unconfigured_channel.assert_refused(create(client, project_id, notifications=notifications))
    assert schedules_of(client, project_id) == []

    schedule = create(client, project_id).json()
    url = f"{schedules_url(project_id)}/{schedule['id']}"
    unconfigured_channel.assert_refused(client.patch(url, json={"notifications": notifications}))
    assert client.get(url).json() == schedule


def test_patch_replaces_the_list_keeps_it_when_omitted_and_clears_it_with_an_empty_one(
    client: TestClient, project_id: str
) -> None:
    alice = new_user(client, "alice@example.test", name="Alice")
    bob = new_user(client, "bob@example.test", name="Bob")
    schedule = create(
        client, project_id, notifications=[{"type": "FAILURE", "userIds": [alice["id"]]}]
    ).json()
    url = f"{schedules_url(project_id)}/{schedule['id']}"

    def recipients(answer: Any) -> list[tuple[str, str]]:
        assert answer.status_code == 200, answer.text
        return [
            (r["type"], r["recipient"]["name"]) for r in answer.json()["notificationRecipients"]
        ]

    kept = client.patch(url, json={"overlap": "skip"})
    assert recipients(kept) == [("FAILURE", "Alice")]
    assert kept.json()["notifications"] == schedule["notifications"]
    kept_too = client.patch(url, json={"notifications": None})
    assert recipients(kept_too) == [("FAILURE", "Alice")]

    replaced = client.patch(
        url,
        json={
            "notifications": [
                {"type": "SUCCESS", "userIds": [bob["id"]]},
                {"type": "ALL", "slackChannelIds": ["C9"]},
            ]
        },
    )
    assert recipients(replaced) == [("SUCCESS", "Bob"), ("ALL", "C9")]
    assert [n["type"] for n in replaced.json()["notifications"]] == ["SUCCESS", "ALL"]

    cleared = client.patch(url, json={"notifications": []})
    assert recipients(cleared) == []
    assert cleared.json()["notifications"] == []


def test_a_refused_patch_changes_nothing_not_even_its_valid_fields(
    client: TestClient, project_id: str
) -> None:
    alice = new_user(client, "alice@example.test")
    schedule = create(
        client, project_id, notifications=[{"type": "FAILURE", "userIds": [alice["id"]]}]
    ).json()
    url = f"{schedules_url(project_id)}/{schedule['id']}"
    refused = client.patch(
        url,
        json={"overlap": "skip", "notifications": [{"type": "ALL", "groupIds": [UNKNOWN_ID]}]},
    )
    assert refused.status_code == 422, refused.text
    assert "notifications[0].groupIds" in refused.json()["message"]
    assert client.get(url).json() == schedule


def test_a_notification_of_an_unknown_type_is_refused_naming_it(
    client: TestClient, project_id: str
) -> None:
    answer = create(client, project_id, notifications=[{"type": "SOMETIMES"}])
    assert answer.status_code in (400, 422), answer.text
    assert "notifications.0.type" in answer.text
    assert schedules_of(client, project_id) == []
