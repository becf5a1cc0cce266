"""The project page's Schedules: the list, and the add, pause, resume and delete forms
(POST /app/projects/{projectId}/schedules[/{scheduleId}/pause|resume|delete])."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from runyard.app import Runtime
from tests.api.sharing_cast import Person, owned_project, person, share_users
from tests.cast import new_user, notebook, personal_token, published_project
from tests.notification_servers import inbox, settings_values, slack_api
from tests.web.conftest import csrf_of, sign_in

__all__ = ["inbox", "settings_values", "slack_api"]  # fixtures used by name

PARAMETERS = "region = 'EU'\ndays: int = 7"
DEFAULT_INPUTS = {"param.region": "EU", "param.days": "7"}  # the form's fields as they come
DAILY_PARIS = {"cadence": "DAILY", "daily": {"timezone": "Europe/Paris", "hour": 6, "minute": 0}}


@pytest.fixture
def project_id(client: TestClient) -> str:
    return published_project(client, notebook("x = 1", parameters=PARAMETERS), "Sales")


def schedules_of(client: TestClient, project_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/projects/{project_id}/schedules")
    assert answer.status_code == 200, answer.text
    values: list[dict[str, Any]] = answer.json()["values"]
    return values


def add_via_api(client: TestClient, project_id: str, **body: Any) -> dict[str, Any]:
    answer = client.post(f"/api/v1/projects/{project_id}/schedules", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def schedule_row(html: str, schedule_id: str) -> str:
    """The table row that shows one schedule."""
    found = re.search(rf'<tr id="schedule-{schedule_id}">(.*?)</tr>', html, re.S)
    assert found, f"no row for schedule {schedule_id}"
    return found.group(1)


def form_of(page: str, **fields: str) -> dict[str, str]:
    """The add-schedule form as a person fills it in: what they change over the defaults."""
    return {
        "csrf": csrf_of(page),
        "cadence": "DAILY",
        "at": "06:00",
        "minute": "0",
        "day_of_week": "MONDAY",
        "day": "1",
        "cron": "",
        "timezone": "UTC",
        "catch_up": "latest",
        "overlap": "allow",
        "enabled": "on",
        **fields,
    }


def test_the_list_shows_each_schedules_cadence_zone_next_run_inputs_and_recipients(
    client: TestClient, signed_in: TestClient, project_id: str
) -> None:
    alice = new_user(client, "alice@example.test", name="Alice")
    daily = add_via_api(
        client,
        project_id,
        **DAILY_PARIS,
        inputParams={"region": "APAC"},
        notifications=[
            {"type": "FAILURE", "userIds": [alice["id"]]},
            {"type": "ALL", "slackChannelIds": ["C0123"]},
        ],
    )
    cron = add_via_api(
        client,
        project_id,
        cadence="CUSTOM",
        custom={"timezone": "America/New_York", "cron": "30 7 * * MON-FRI"},
        enabled=False,
    )
    page = signed_in.get(f"/app/projects/{project_id}")
    assert page.status_code == 200

    row = schedule_row(page.text, daily["id"])
    assert "Every day at 06:00 (Europe/Paris)" in row
    # The next run on the schedule's own clock, with its zone's abbreviation (CET or CEST).
    local = datetime.fromisoformat(daily["nextFireTimes"][0]["local"])
    assert local.strftime("%Y-%m-%d 06:00 CE") in row
    assert f'datetime="{datetime.fromisoformat(daily["nextFireAt"]).isoformat()}"' in row
    assert "enabled" in row
    assert "region=&#34;APAC&#34;" in row
    assert "Alice (failure)" in row and "Slack C0123 (all)" in row
    assert "none yet" in row

    row = schedule_row(page.text, cron["id"])
    assert "Cron &#39;30 7 * * MON-FRI&#39; (America/New_York)" in row
    assert "paused" in row and "Resume" in row
    assert "the notebook's defaults" in row and "no one" in row


def test_a_schedule_links_to_the_last_run_it_fired(
    client: TestClient, signed_in: TestClient, runtime: Runtime, project_id: str
) -> None:
    schedule = add_via_api(client, project_id, **DAILY_PARIS)
    slot = datetime.fromisoformat(schedule["nextFireAt"])
    assert runtime.scheduler.tick(slot + timedelta(seconds=1)) is True
    [run] = client.get(f"/api/v1/projects/{project_id}/runs").json()["runs"]
    assert run["scheduleId"] == schedule["id"]

    row = schedule_row(signed_in.get(f"/app/projects/{project_id}").text, schedule["id"])
    assert f'<a href="/app/projects/{project_id}/runs/{run["runId"]}">' in row
    assert f'datetime="{slot.isoformat()}"' in row, "the slot it fired for"
    assert 'class="status status-' in row


def test_an_editor_adds_a_daily_schedule_through_the_form_and_the_api_lists_it(
    client: TestClient, signed_in: TestClient, project_id: str
) -> None:
    page = signed_in.get(f"/app/projects/{project_id}")
    assert "<summary>Add schedule</summary>" in page.text
    added = signed_in.post(
        f"/app/projects/{project_id}/schedules",
        data=form_of(
            page.text,
            timezone="Europe/Paris",
            at="06:30",
            **{**DEFAULT_INPUTS, "param.region": "APAC"},
        ),
    )
    assert added.status_code == 303, added.text

    [schedule] = schedules_of(client, project_id)
    assert added.headers["location"] == f"/app/projects/{project_id}#schedule-{schedule['id']}"
    assert schedule["cadence"] == "DAILY"
    assert schedule["daily"] == {"timezone": "Europe/Paris", "hour": 6, "minute": 30}
    assert schedule["enabled"] is True
    # `days` was left at the notebook's default, so the schedule follows the notebook's.
    assert schedule["inputParams"] == {"region": "APAC"}
    assert (schedule["catchUp"], schedule["overlap"]) == ("latest", "allow")
    shown = signed_in.get(f"/app/projects/{project_id}").text
    assert "Every day at 06:30 (Europe/Paris)" in schedule_row(shown, schedule["id"])


def test_the_form_adds_cron_weekly_monthly_and_hourly_schedules_paused_if_unticked(
    client: TestClient, signed_in: TestClient, project_id: str
) -> None:
    page = signed_in.get(f"/app/projects/{project_id}").text
    path = f"/app/projects/{project_id}/schedules"
    forms = [
        {"cadence": "CUSTOM", "cron": "0 5 * * MON-FRI", "timezone": "+08:00"},
        {"cadence": "WEEKLY", "day_of_week": "FRIDAY", "at": "17:45"},
        {"cadence": "MONTHLY", "day": "28", "at": "00:00", "overlap": "skip"},
        {"cadence": "HOURLY", "minute": "15", "catch_up": "all", "enabled": ""},
    ]
    for fields in forms:
        data = form_of(page, **DEFAULT_INPUTS, **fields)
        if fields.get("enabled") == "":
            del data["enabled"]  # an unticked checkbox is not sent at all
        assert signed_in.post(path, data=data).status_code == 303

    custom, weekly, monthly, hourly = schedules_of(client, project_id)
    assert custom["custom"] == {"timezone": "+08:00", "cron": "0 5 * * MON-FRI"}
    assert weekly["weekly"] == {
        "timezone": "UTC",
        "dayOfWeek": "FRIDAY",
        "hour": 17,
        "minute": 45,
    }
    assert monthly["monthly"] == {"timezone": "UTC", "day": 28, "hour": 0, "minute": 0}
    assert monthly["overlap"] == "skip"
    assert hourly["hourly"] == {"timezone": "UTC", "minute": 15}
    assert (hourly["catchUp"], hourly["enabled"], hourly["nextFireAt"]) == ("all", False, None)


def test_pause_resume_and_delete_change_the_schedule_and_come_back_to_it(
    client: TestClient, signed_in: TestClient, project_id: str
) -> None:
    schedule = add_via_api(client, project_id, **DAILY_PARIS)
    path = f"/app/projects/{project_id}/schedules/{schedule['id']}"
    page = signed_in.get(f"/app/projects/{project_id}").text
    assert f'action="{path}/pause"' in page
    csrf = csrf_of(page)

    paused = signed_in.post(f"{path}/pause", data={"csrf": csrf})
    assert paused.status_code == 303
    assert paused.headers["location"] == f"/app/projects/{project_id}#schedule-{schedule['id']}"
    [saved] = schedules_of(client, project_id)
    assert (saved["enabled"], saved["nextFireAt"]) == (False, None)
    row = schedule_row(signed_in.get(f"/app/projects/{project_id}").text, schedule["id"])
    assert "paused" in row and f'action="{path}/resume"' in row

    assert signed_in.post(f"{path}/resume", data={"csrf": csrf}).status_code == 303
    [saved] = schedules_of(client, project_id)
    assert saved["enabled"] is True and saved["nextFireAt"] is not None
    unknown = signed_in.post(f"{path}/snooze", data={"csrf": csrf})
    assert 400 <= unknown.status_code < 500
    assert schedules_of(client, project_id) == [saved]

    deleted = signed_in.post(f"{path}/delete", data={"csrf": csrf})
    assert deleted.status_code == 303
    assert deleted.headers["location"] == f"/app/projects/{project_id}#schedules"
    assert schedules_of(client, project_id) == []
    assert "No schedules yet" in signed_in.get(f"/app/projects/{project_id}").text
    # A schedule that is gone is a 404 page, for its buttons and its address alike.
    assert signed_in.post(f"{path}/pause", data={"csrf": csrf}).status_code == 404
    assert signed_in.get(path).status_code == 404


def test_a_signed_out_pause_signs_in_and_comes_back_to_the_schedule_on_its_projects_page(
    client: TestClient, browser: TestClient, project_id: str
) -> None:
    schedule = add_via_api(client, project_id, **DAILY_PARIS)
    address = f"/app/projects/{project_id}/schedules/{schedule['id']}"
    signed_out = browser.post(f"{address}/pause", data={"csrf": "x"})
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == f"/login?next={quote(address, safe='')}"
    assert schedules_of(client, project_id)[0]["enabled"] is True

    assert sign_in(browser, next=address).headers["location"] == address
    answer = browser.get(address)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/app/projects/{project_id}#schedule-{schedule['id']}"


@pytest.mark.parametrize(
    ("fields", "field", "problem"),
    [
        ({"cadence": "CUSTOM", "cron": "99 * * * *"}, "cron", "minute"),
        ({"cadence": "CUSTOM", "cron": ""}, "cron", "must be a cron expression"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "unknown time zone"),
        ({"at": "25:00"}, "at", "must be between 0 and 23"),
        ({"at": "noon"}, "at", "expected a time HH:MM"),
        ({"cadence": "MONTHLY", "day": "31"}, "day", "must be between 1 and 28"),
        ({"cadence": "HOURLY", "minute": "x"}, "minute", "expected a whole number"),
        ({"cadence": "YEARLY"}, "cadence", "choose one of"),
    ],
)
def test_a_bad_field_shows_the_form_again_with_its_problem_and_adds_nothing(
    client: TestClient,
    signed_in: TestClient,
    project_id: str,
    fields: dict[str, str],
    field: str,
    problem: str,
) -> None:
    page = signed_in.get(f"/app/projects/{project_id}").text
    answer = signed_in.post(
        f"/app/projects/{project_id}/schedules", data=form_of(page, **DEFAULT_INPUTS, **fields)
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert '<details class="card add-schedule" open>' in answer.text
    box = re.search(
        rf'<div class="field[^"]* invalid">\s*<label for="s-{field}">.*?</div>', answer.text, re.S
    )
    assert box, f"the {field} field is not marked invalid"
    assert problem in box.group(0)
    for name, typed in fields.items():
        if name not in ("cadence", "day_of_week"):
            assert f'name="{name}"' in answer.text and f'value="{typed}"' in answer.text
    assert schedules_of(client, project_id) == []


def test_inputs_the_notebook_refuses_are_shown_by_their_fields_and_add_nothing(
    client: TestClient, signed_in: TestClient, project_id: str
) -> None:
    page = signed_in.get(f"/app/projects/{project_id}").text
    answer = signed_in.post(
        f"/app/projects/{project_id}/schedules",
        data=form_of(page, **{**DEFAULT_INPUTS, "param.days": "ten", "param.gone": "x"}),
    )
    assert answer.status_code == 422
    box = re.search(
        r'<div class="field invalid">\s*<label for="sp-days">.*?</div>', answer.text, re.S
    )
    assert box and "expected an integer, got &#39;ten&#39;" in box.group(0)
    assert "inputParams.gone: no such input parameter" in answer.text
    assert 'id="sp-days" name="param.days" type="text" value="ten"' in answer.text
    assert schedules_of(client, project_id) == []


def test_a_form_post_without_the_sessions_csrf_token_is_refused(
    client: TestClient, signed_in: TestClient, project_id: str
) -> None:
    schedule = add_via_api(client, project_id, **DAILY_PARIS)
    page = signed_in.get(f"/app/projects/{project_id}").text
    path = f"/app/projects/{project_id}/schedules"
    actions = (
        "",
        f"/{schedule['id']}/pause",
        f"/{schedule['id']}/resume",
        f"/{schedule['id']}/delete",
    )
    for action in actions:
        for csrf in ({}, {"csrf": "forged"}):
            data = {**form_of(page), **csrf}
            if not csrf:
                del data["csrf"]
            refused = signed_in.post(path + action, data=data)
            assert refused.status_code == 403, action
            assert refused.headers["content-type"].startswith("text/html")
    [unchanged] = schedules_of(client, project_id)
    assert unchanged["enabled"] is True


def viewers_browser(client: TestClient, who: Person) -> TestClient:
    browser = TestClient(client.app, follow_redirects=False)
    assert sign_in(browser, personal_token(client, who.id)).status_code == 303
    return browser


@pytest.mark.parametrize("access", ["APP_ONLY", "CAN_VIEW"])
def test_a_viewer_sees_the_schedules_read_only_and_a_forged_post_is_refused(
    client: TestClient, access: str
) -> None:
    alice, bob = person(client, "alice"), person(client, "bob")
    project_id = owned_project(client, alice, "Forecast")
    answer = client.post(
        f"/api/v1/projects/{project_id}/schedules", json=DAILY_PARIS, headers=alice.headers
    )
    assert answer.status_code == 201, answer.text
    schedule_id = answer.json()["id"]
    share_users(client, project_id, (bob.id, access))

    with viewers_browser(client, bob) as browser:
        page = browser.get(f"/app/projects/{project_id}").text
        row = schedule_row(page, schedule_id)
        assert "Every day at 06:00 (Europe/Paris)" in row
        assert "Add schedule" not in page
        assert "/pause" not in page and "/delete" not in page
        csrf = csrf_of(page)
        path = f"/app/projects/{project_id}/schedules"
        forged = [
            browser.post(path, data={**form_of(page), "param.n": "2"}),
            browser.post(f"{path}/{schedule_id}/pause", data={"csrf": csrf}),
            browser.post(f"{path}/{schedule_id}/delete", data={"csrf": csrf}),
        ]
        for refused in forged:
            assert refused.status_code == 403, refused.text
            assert (
                f"edit projects needs CAN_EDIT on this project; you have {access}" in refused.text
            )

    [unchanged] = schedules_of(client, project_id)
    assert unchanged["id"] == schedule_id and unchanged["enabled"] is True


def test_someone_the_project_is_not_shared_with_finds_neither_it_nor_its_schedules(
    client: TestClient,
) -> None:
    alice, mallory = person(client, "alice"), person(client, "mallory")
    project_id = owned_project(client, alice, "Forecast")
    answer = client.post(
        f"/api/v1/projects/{project_id}/schedules", json=DAILY_PARIS, headers=alice.headers
    )
    schedule_id = answer.json()["id"]
    with viewers_browser(client, mallory) as browser:
        csrf = csrf_of(browser.get("/app/projects").text)
        path = f"/app/projects/{project_id}/schedules/{schedule_id}"
        assert browser.post(f"{path}/delete", data={"csrf": csrf}).status_code == 404
        assert browser.get(path).status_code == 404
    assert len(schedules_of(client, project_id)) == 1


def test_a_person_who_can_edit_the_project_gets_the_forms(client: TestClient) -> None:
    alice, carol = person(client, "alice"), person(client, "carol")
    project_id = owned_project(client, alice, "Forecast")
    share_users(client, project_id, (carol.id, "CAN_EDIT"))
    with viewers_browser(client, carol) as browser:
        page = browser.get(f"/app/projects/{project_id}").text
        assert "<summary>Add schedule</summary>" in page
        added = browser.post(
            f"/app/projects/{project_id}/schedules", data={**form_of(page), "param.n": "2"}
        )
        assert added.status_code == 303, added.text
    [schedule] = schedules_of(client, project_id)
    assert schedule["inputParams"] == {"n": 2}


def test_a_project_that_is_not_published_cannot_be_scheduled_yet(
    client: TestClient, signed_in: TestClient
) -> None:
    project_id = client.post("/api/v1/projects", json={"title": "Draft"}).json()["id"]
    page = signed_in.get(f"/app/projects/{project_id}").text
    assert "Publish this project before scheduling it" in page
    assert f'action="/app/projects/{project_id}/schedules"' not in page
