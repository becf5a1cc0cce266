"""`runyard schedules …`: add, list, pause, resume, delete, and show the next fire times."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from runyard.cli.connection import DEFAULT_URL, TokenOption, UrlOption, api_client
from runyard.cli.params import parse_params

app = typer.Typer(help="Run projects on cadences or cron, in a time zone.", no_args_is_help=True)
console = Console()

CADENCES = ("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "CUSTOM")


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
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Add a schedule to a published project."""
    body = schedule_body(cadence, timezone, at, minute, day_of_week, day, cron)
    body.update(
        inputParams=parse_params(param or []), catchUp=catch_up, overlap=overlap, enabled=not paused
    )
    with api_client(url, token) as client:
        schedule = client.add_schedule(project_id, body)
    console.print(f"Schedule {schedule['id']}: {schedule['description']}")
    _print_times(schedule)


@app.command("list")
def list_(project_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """List a project's schedules."""
    with api_client(url, token) as client:
        schedules = client.schedules(project_id)
    table = Table("id", "cadence", "enabled", "next (UTC)", "catch-up", "overlap")
    for s in schedules:
        table.add_row(
            s["id"],
            s["description"],
            "yes" if s["enabled"] else "paused",
            s["nextFireAt"] or "-",
            s["catchUp"],
            s["overlap"],
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
