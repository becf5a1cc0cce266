"""`runyard schedules add|edit|list` and notifications, against a real `runyard serve` that
has email and Slack set up (nothing is delivered here: no run ends)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.servers import Server, cli, cli_add_schedule, free_port, import_example, serving

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("schedules-cli") / "home"
    # Only configured, never reached: the server checks the channels exist when a schedule
    # is saved, and sends when a run ends.
    channels = {
        "RUNYARD_SMTP_HOST": "127.0.0.1",
        "RUNYARD_SMTP_PORT": str(free_port()),
        "RUNYARD_SLACK_BOT_TOKEN": "xoxb-cli-test-token",
    }
    with serving(home, **channels) as running:
        yield running


@pytest.fixture(scope="module")
def project_id(server: Server) -> str:
    return import_example(server)


def new_user(server: Server, email: str, name: str) -> str:
    answer = server.http.post(
        "/api/v1/users", json={"email": email, "name": name, "role": "EDITOR"}
    )
    assert answer.status_code == 201, answer.text
    user_id: str = answer.json()["id"]
    return user_id


@pytest.fixture(scope="module")
def people(server: Server) -> dict[str, str]:
    alice = new_user(server, "alice@example.test", "Alice")
    bob = new_user(server, "bob@example.test", "Bob")
    team = server.http.post(
        "/api/v1/groups", json={"name": "Data team", "members": {"users": [{"id": alice}]}}
    )
    assert team.status_code == 201, team.text
    return {"alice": alice, "bob": bob, "team": team.json()["id"]}


def schedule(server: Server, project_id: str, schedule_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = server.http.get(
        f"/api/v1/projects/{project_id}/schedules/{schedule_id}"
    ).json()
    return answer


def test_add_sets_who_is_notified_by_email_group_name_and_slack_channel(
    server: Server, project_id: str, people: dict[str, str]
) -> None:
    sid, out = cli_add_schedule(
        server,
        project_id,
        "--cadence",
        "DAILY",
        "--at",
        "06:00",
        "--notify-failure",
        "alice@example.test",
        "--notify-failure",
        "group:Data team",
        "--notify-all",
        "slack:C0123",
    )
    assert "Notifies: Alice (failure), group:Data team (failure), slack:C0123 (all)" in out
    saved = schedule(server, project_id, sid)
    assert [
        (n["type"], n["userIds"], n["groupIds"], n["slackChannelIds"])
        for n in saved["notifications"]
    ] == [
        ("FAILURE", [people["alice"]], [people["team"]], []),
        ("ALL", [], [], ["C0123"]),
    ]
    assert "Alice (failure)" in cli(server, "schedules", "list", project_id)


def test_edit_replaces_the_notifications_and_no_notifications_clears_them(
    server: Server, project_id: str, people: dict[str, str]
) -> None:
    sid, _ = cli_add_schedule(
        server, project_id, "--cadence", "HOURLY", "--notify-failure", people["alice"]
    )

    out = cli(server, "schedules", "edit", project_id, sid, "--overlap", "skip")
    assert "Notifies: Alice (failure)" in out
    out = cli(server, "schedules", "edit", project_id, sid, "--notify-success", "bob@example.test")
    assert "Notifies: Bob (success)" in out
    assert [n["userIds"] for n in schedule(server, project_id, sid)["notifications"]] == [
        [people["bob"]]
    ]
    out = cli(server, "schedules", "edit", project_id, sid, "--no-notifications")
    assert "Notifies: -" in out
    saved = schedule(server, project_id, sid)
    assert (saved["notifications"], saved["overlap"]) == ([], "skip")


def test_recipients_that_cannot_be_notified_are_refused(
    server: Server, project_id: str, people: dict[str, str]
) -> None:
    def schedule_ids() -> list[str]:
        listed = server.http.get(f"/api/v1/projects/{project_id}/schedules").json()["values"]
        return [s["id"] for s in listed]

    before = schedule_ids()
    daily = ["schedules", "add", project_id, "--cadence", "DAILY", "--at", "06:00"]
    unknown_email = cli(server, *daily, "--notify-failure", "nobody@example.test", expect=2)
    assert "no user with email nobody@example.test" in unknown_email
    unknown_id = "00000000-0000-0000-0000-000000000001"
    refused = cli(server, *daily, "--notify-failure", unknown_id, expect=1)
    assert "notifications[0].userIds" in refused
    assert "mystery:x" in cli(server, *daily, "--notify-all", "mystery:x", expect=2)
    assert schedule_ids() == before
