"""`runyard schedules …`: add, edit, list, pause, resume, delete, and show the next fire
times."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from runyard.cli.connection import DEFAULT_URL, TokenOption, UrlOption, api_client
from runyard.cli.params import parse_params

if TYPE_CHECKING:
    from runyard.client import RunyardClient

app = typer.Typer(help="Run projects on cadences or cron, in a time zone.", no_args_is_help=True)
console = Console()

CADENCES = ("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "CUSTOM")

NOTIFY_OPTIONS = "--notify-failure/--notify-success/--notify-all"
_WHO = "an email or user id, group:NAME_OR_ID, or slack:CHANNEL_ID; repeat"
NotifyFailure = Annotated[
    list[str] | None,
    typer.Option(help=f"Notify when a run does not complete: {_WHO}.", metavar="WHO"),
]
NotifySuccess = Annotated[
    list[str] | None,
    typer.Option(help=f"Notify when a run completes: {_WHO}.", metavar="WHO"),
]
NotifyAll = Annotated[
    list[str] | None,
    typer.Option(help=f"Notify whenever a run ends: {_WHO}.", metavar="WHO"),
]


def _hour_minute(at: str) -> tuple[int, int]:
    hour, sep, minute = at.partition(":")
    if not sep or not hour.isdigit() or not minute.isdigit():
        raise typer.BadParameter(f"expected HH:MM, got {at!r}", param_hint="--at")
    return int(hour), int(minute)


def schedule_body(
    cadence: str,
    timezone: str,
    at: str | None,
    minute: int | None,
    day_of_week: str | None,
    day: int | None,
    cron: str | None,
) -> dict[str, Any]:
    """Hex's schedule shape from the command's options; the server checks the values."""
    kind = cadence.upper()
    if kind not in CADENCES:
        raise typer.BadParameter(f"one of {', '.join(CADENCES)}", param_hint="--cadence")
    sub: dict[str, Any] = {"timezone": timezone}
    if kind == "HOURLY":
        sub["minute"] = minute if minute is not None else 0
    elif kind == "CUSTOM":
        if not cron:
            raise typer.BadParameter("CUSTOM needs --cron", param_hint="--cron")
        sub["cron"] = cron
    else:
        if not at:
            raise typer.BadParameter(f"{kind} needs --at HH:MM", param_hint="--at")
        sub["hour"], sub["minute"] = _hour_minute(at)
        if kind == "WEEKLY":
            if not day_of_week:
                raise typer.BadParameter("WEEKLY needs --day-of-week", param_hint="--day-of-week")
            sub["dayOfWeek"] = day_of_week.upper()
        if kind == "MONTHLY":
            if day is None:
                raise typer.BadParameter("MONTHLY needs --day", param_hint="--day")
            sub["day"] = day
    return {"cadence": kind, kind.lower(): sub}


def _recipients_by_kind(who: list[str], option: str) -> dict[str, list[str]]:
    """`--notify-…` values sorted into users, groups and Slack channels, as given."""
    found: dict[str, list[str]] = {"userIds": [], "groupIds": [], "slackChannelIds": []}
    for value in who:
        kind, sep, name = value.partition(":")
        if sep and kind.lower() == "group" and name.strip():
            found["groupIds"].append(name.strip())
        elif sep and kind.lower() == "slack" and name.strip():
            found["slackChannelIds"].append(name.strip())
        elif value.strip() and not sep:
            found["userIds"].append(value.strip())
        else:
            raise typer.BadParameter(
                f"expected an email, a user id, group:NAME_OR_ID or slack:CHANNEL_ID, "
                f"got {value!r}",
                param_hint=option,
            )
    return found


def parse_notify(
    failure: list[str] | None, success: list[str] | None, all_: list[str] | None
) -> list[dict[str, Any]]:
    """One notification per `--notify-…` option given, in RunProject's shape, with users by
    email or id and groups by name or id (`resolve_notify` looks the names up)."""
    given = (
        ("FAILURE", failure, "--notify-failure"),
        ("SUCCESS", success, "--notify-success"),
        ("ALL", all_, "--notify-all"),
    )
    return [
        {"type": kind, "includeSuccessScreenshot": False, **_recipients_by_kind(who, option)}
        for kind, who, option in given
        if who
    ]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def resolve_notify(
    client: RunyardClient, notifications: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Turn user emails and group names into ids; the server checks the ids themselves."""
    emails = {e for n in notifications for e in n["userIds"] if "@" in e}
    names = {g for n in notifications for g in n["groupIds"] if not _is_uuid(g)}
    users = {u["email"].lower(): u["id"] for u in client.users()} if emails else {}
    groups = {g["name"]: g["id"] for g in client.groups()} if names else {}
    unknown = sorted(e for e in emails if e.lower() not in users)
    if unknown:
        raise typer.BadParameter(
            f"no user with email {', '.join(unknown)}", param_hint=NOTIFY_OPTIONS
        )
    missing = sorted(g for g in names if g not in groups)
    if missing:
        raise typer.BadParameter(f"no group named {', '.join(missing)}", param_hint=NOTIFY_OPTIONS)
    return [
        {
            **n,
            "userIds": [users[u.lower()] if "@" in u else u for u in n["userIds"]],
            "groupIds": [groups.get(g, g) for g in n["groupIds"]],
        }
        for n in notifications
    ]


def describe_recipients(schedule: dict[str, Any]) -> str:
    """Who a schedule notifies, and when, in one line ("-" for no one)."""
    prefix = {"USER": "", "GROUP": "group:", "SLACK_CHANNEL": "slack:"}
    return (
        ", ".join(
            f"{prefix[r['recipientType']]}{r['recipient']['name']} ({r['type'].lower()})"
            for r in schedule.get("notificationRecipients") or []
        )
        or "-"
    )


@app.command("add")
def add(
    project_id: str,
    cadence: Annotated[str, typer.Option(help="HOURLY, DAILY, WEEKLY, MONTHLY or CUSTOM.")],
    timezone: Annotated[str, typer.Option(help="IANA zone or offset such as +08:00.")] = "UTC",
    at: Annotated[str | None, typer.Option(help="HH:MM for DAILY, WEEKLY, MONTHLY.")] = None,
    minute: Annotated[int | None, typer.Option(help="Minute past the hour for HOURLY.")] = None,
    day_of_week: Annotated[str | None, typer.Option(help="MONDAY…SUNDAY for WEEKLY.")] = None,
    day: Annotated[int | None, typer.Option(help="Day of month 1-28 for MONTHLY.")] = None,
    cron: Annotated[str | None, typer.Option(help="5-field cron for CUSTOM.")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Input parameter NAME=VALUE.")
    ] = None,
    catch_up: Annotated[str, typer.Option(help="skip, latest or all.")] = "latest",
    overlap: Annotated[str, typer.Option(help="allow, skip or cancel_previous.")] = "allow",
    paused: Annotated[bool, typer.Option(help="Create it paused.")] = False,
    update_published_results: Annotated[
        bool, typer.Option(help="Its runs replace the project's published results.")
    ] = True,
    notify_failure: NotifyFailure = None,
    notify_success: NotifySuccess = None,
    notify_all: NotifyAll = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Add a schedule to a published project."""
    body = schedule_body(cadence, timezone, at, minute, day_of_week, day, cron)
    body.update(
        inputParams=parse_params(param or []),
        catchUp=catch_up,
        overlap=overlap,
        enabled=not paused,
        updatePublishedResults=update_published_results,
    )
    notifications = parse_notify(notify_failure, notify_success, notify_all)
    with api_client(url, token) as client:
        if notifications:
            body["notifications"] = resolve_notify(client, notifications)
        schedule = client.add_schedule(project_id, body)
    console.print(f"Schedule {schedule['id']}: {schedule['description']}")
    if notifications:
        console.print(f"Notifies: {describe_recipients(schedule)}")
    _print_times(schedule)


@app.command("edit")
def edit(
    project_id: str,
    schedule_id: str,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Input parameter NAME=VALUE (replaces them all)."),
    ] = None,
    catch_up: Annotated[str | None, typer.Option(help="skip, latest or all.")] = None,
    overlap: Annotated[str | None, typer.Option(help="allow, skip or cancel_previous.")] = None,
    notify_failure: NotifyFailure = None,
    notify_success: NotifySuccess = None,
    notify_all: NotifyAll = None,
    no_notifications: Annotated[
        bool, typer.Option("--no-notifications", help="Notify no one any more.")
    ] = False,
    update_published_results: Annotated[
        bool | None,
        typer.Option(help="Whether its runs replace the project's published results."),
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Change a schedule's inputs, policies or notifications; what is not given stays.

    Any --notify-… option replaces all of the schedule's notifications."""
    notifications = parse_notify(notify_failure, notify_success, notify_all)
    if notifications and no_notifications:
        raise typer.BadParameter("--no-notifications cannot be combined with --notify-…")
    changes: dict[str, Any] = {}
    if param:
        changes["inputParams"] = parse_params(param)
    if catch_up is not None:
        changes["catchUp"] = catch_up
    if overlap is not None:
        changes["overlap"] = overlap
    if no_notifications:
        changes["notifications"] = []
    if update_published_results is not None:
        changes["updatePublishedResults"] = update_published_results
    if not changes and not notifications:
        raise typer.BadParameter(
            "nothing to change: give --param, --catch-up, --overlap, "
            "--notify-…, --no-notifications or --[no-]update-published-results"
        )
    with api_client(url, token) as client:
        if notifications:
            changes["notifications"] = resolve_notify(client, notifications)
        schedule = client.update_schedule(project_id, schedule_id, changes)
    console.print(f"Schedule {schedule['id']}: {schedule['description']}")
    console.print(f"Notifies: {describe_recipients(schedule)}")


@app.command("list")
def list_(project_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """List a project's schedules."""
    with api_client(url, token) as client:
        schedules = client.schedules(project_id)
    table = Table("id", "cadence", "enabled", "next (UTC)", "catch-up", "overlap", "notifies")
    for s in schedules:
        table.add_row(
            s["id"],
            s["description"],
            "yes" if s["enabled"] else "paused",
            s["nextFireAt"] or "-",
            s["catchUp"],
            s["overlap"],
            describe_recipients(s),
        )
    console.print(table)


def _set_enabled(project_id: str, schedule_id: str, enabled: bool, url: str, token: str) -> None:
    with api_client(url, token) as client:
        schedule = client.update_schedule(project_id, schedule_id, {"enabled": enabled})
    state = "resumed" if enabled else "paused"
    console.print(f"Schedule {schedule_id} {state}; next fire: {schedule['nextFireAt'] or '-'}")


@app.command("pause")
def pause(
    project_id: str, schedule_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = ""
) -> None:
    """Pause a schedule: no slot fires until it is resumed."""
    _set_enabled(project_id, schedule_id, False, url, token)


@app.command("resume")
def resume(
    project_id: str, schedule_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = ""
) -> None:
    """Resume a schedule from now on (the slots it missed while paused never fire)."""
    _set_enabled(project_id, schedule_id, True, url, token)


@app.command("delete")
def delete(
    project_id: str, schedule_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = ""
) -> None:
    """Delete a schedule; the runs it fired stay."""
    with api_client(url, token) as client:
        client.delete_schedule(project_id, schedule_id)
    console.print(f"Deleted schedule {schedule_id}")


@app.command("next")
def next_(
    project_id: str, schedule_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = ""
) -> None:
    """Show the next five fire times, in UTC and in the schedule's zone."""
    with api_client(url, token) as client:
        schedule = client.schedule(project_id, schedule_id)
    console.print(schedule["description"])
    _print_times(schedule)


def _print_times(schedule: dict[str, Any]) -> None:
    table = Table("UTC", "local")
    for fire in schedule["nextFireTimes"]:
        table.add_row(fire["utc"], fire["local"])
    console.print(table)
