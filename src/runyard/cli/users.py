"""`runyard users …`: list, create, update, deactivate and reactivate users; who am I."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from runyard.cli.connection import DEFAULT_URL, TokenOption, UrlOption, api_client

app = typer.Typer(help="Workspace users (admins change them).", no_args_is_help=True)
console = Console()

ROLES = "ADMIN, MANAGER, EDITOR, EXPLORER, MEMBER or GUEST"


def _print_user(user: dict[str, Any]) -> None:
    state = " (deactivated)" if user.get("deactivatedAt") else ""
    console.print(
        f"{user['id']}  {user['email']}  {user.get('name') or '-'}  {user['role']}{state}"
    )


@app.command("list")
def list_(
    sort: Annotated[str, typer.Option(help="NAME or EMAIL.")] = "NAME",
    desc: Annotated[bool, typer.Option("--desc", help="Sort descending.")] = False,
    include_deactivated: Annotated[
        bool, typer.Option("--include-deactivated", help="Show deactivated users too.")
    ] = False,
    group_id: Annotated[str | None, typer.Option(help="Only members of this group.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """List the workspace's users."""
    table = Table("id", "email", "name", "role", "last login", "deactivated")
    with api_client(url, token) as client:
        for user in client.users(
            sort_by=sort.upper(),
            descending=desc,
            include_deactivated=include_deactivated,
            group_id=group_id,
        ):
            table.add_row(
                user["id"],
                user["email"],
                user.get("name") or "-",
                user["role"],
                user.get("lastLoginDate") or "-",
                user.get("deactivatedAt") or "-",
            )
    console.print(table)


@app.command("create")
def create(
    email: str,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    role: Annotated[str, typer.Option(help=ROLES)] = "MEMBER",
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Add a user. Give them a first personal token with `runyard tokens create --user-id`."""
    with api_client(url, token) as client:
        user = client.create_user(email, name=name, role=role.upper())
    _print_user(user)


@app.command("update")
def update(
    user_id: str,
    name: Annotated[str | None, typer.Option(help="New display name.")] = None,
    role: Annotated[str | None, typer.Option(help=f"New role: {ROLES}.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Rename a user or change their role."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if role is not None:
        changes["role"] = role.upper()
    if not changes:
        raise typer.BadParameter("give --name and/or --role")
    with api_client(url, token) as client:
        user = client.update_user(user_id, changes)
    _print_user(user)


@app.command("deactivate")
def deactivate(user_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """Deactivate a user: their tokens stop working at once."""
    with api_client(url, token) as client:
        user = client.deactivate_user(user_id)
    _print_user(user)


@app.command("reactivate")
def reactivate(user_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """Reactivate a user: their unrevoked, unexpired tokens work again."""
    with api_client(url, token) as client:
        user = client.reactivate_user(user_id)
    _print_user(user)


@app.command("me")
def me(url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """Show whom the token speaks for, the workspace id and when the token expires."""
    with api_client(url, token) as client:
        found = client.me()
    if "id" in found:
        _print_user(found)
    else:
        console.print("a workspace token")
    exp = (found.get("token") or {}).get("exp")
    console.print(f"workspace {found['org']['id']}; token expires: {exp or 'never'}")
