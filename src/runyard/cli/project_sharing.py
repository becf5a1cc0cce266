"""`runyard projects share|sharing`: who a project is shared with, and changing it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from runyard.cli.collections import ACCESS, Grants
from runyard.cli.connection import DEFAULT_URL, TokenOption, UrlOption, api_client

if TYPE_CHECKING:
    from runyard.client import RunyardClient

console = Console()


def _access_by_id(values: list[str] | None, option: str) -> dict[str, str]:
    """`ID=ACCESS` options as {id: access}; the last one given for an id wins."""
    found: dict[str, str] = {}
    for value in values or []:
        ident, sep, access = value.rpartition("=")
        if not sep or not ident.strip() or access.upper() not in ACCESS:
            raise typer.BadParameter(f"expected ID=ACCESS, got {value!r}", param_hint=option)
        found[ident.strip()] = access.upper()
    return found


def _user_ids(client: RunyardClient, by_key: dict[str, str]) -> dict[str, str]:
    """Users may be named by email as well as by id: look the emails up."""
    emails = [key for key in by_key if "@" in key]
    if not emails:
        return by_key
    ids = {user["email"]: user["id"] for user in client.users()}
    unknown = [email for email in emails if email not in ids]
    if unknown:
        raise typer.BadParameter(f"no user with email {', '.join(unknown)}", param_hint="--user")
    return {ids.get(key, key): access for key, access in by_key.items()}


def _print(project: dict[str, Any]) -> None:
    sharing = project["sharing"]
    console.print(f"Project {project['id']}  {project['title']}")
    console.print(f"  owner: {project['owner']['email']}")
    console.print(f"  workspace: {sharing['workspace']['access']}")
    for grant in sharing["users"]:
        console.print(f"  user {grant['user']['email']}: {grant['access']}")
    for grant in sharing["groups"]:
        console.print(f"  group {grant['group']['name']}: {grant['access']}")
    for grant in sharing["collections"]:
        console.print(f"  collection {grant['collection']['name']}: {grant['access']}")


def _report(errors: list[dict[str, Any]] | None) -> bool:
    for error in errors or []:
        named = error.get("userIds") or error.get("groupIds") or [error.get("type", "")]
        console.print(f"[yellow]skipped {', '.join(named)}: {error['reason']}[/yellow]")
    return bool(errors)


def share(
    project_id: str,
    user: Annotated[
        list[str] | None,
        typer.Option(
            help="USER=ACCESS, USER an id or an email (repeat); ACCESS one of "
            + ", ".join(ACCESS)
            + "; NONE takes it away."
        ),
    ] = None,
    group: Grants = None,
    workspace: Annotated[
        str | None, typer.Option(help="What every workspace member may do (not guests).")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Share a project with users, groups or the whole workspace; other grants stay."""
    users = _access_by_id(user, "--user")
    groups = _access_by_id(group, "--group")
    if workspace is not None and workspace.upper() not in ACCESS:
        raise typer.BadParameter(f"one of {', '.join(ACCESS)}", param_hint="--workspace")
    if not users and not groups and workspace is None:
        raise typer.BadParameter("give --user, --group or --workspace")
    skipped = False
    with api_client(url, token) as client:
        if users:
            result = client.share_project_with_users(project_id, _user_ids(client, users))
            skipped |= _report(result.get("errors"))
        if groups:
            result = client.share_project_with_groups(project_id, groups)
            skipped |= _report(result.get("errors"))
        if workspace is not None:
            result = client.share_project_with_workspace(project_id, workspace.upper())
            skipped |= _report(result.get("errors"))
        _print(client.project(project_id, include_sharing=True))
    if skipped:
        raise typer.Exit(1)


def sharing(project_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """Show who a project is shared with."""
    with api_client(url, token) as client:
        _print(client.project(project_id, include_sharing=True))
