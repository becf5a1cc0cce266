"""`runyard groups …`: list, create, rename, add and remove members, delete."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from runyard.cli.connection import DEFAULT_URL, TokenOption, UrlOption, api_client

app = typer.Typer(help="Groups of users (managers and admins change them).", no_args_is_help=True)
console = Console()

UserIds = Annotated[list[str], typer.Argument(help="User ids.")]


@app.command("list")
def list_(
    sort: Annotated[str, typer.Option(help="NAME or CREATED_AT.")] = "NAME",
    members: Annotated[bool, typer.Option("--members", help="Show each group's members.")] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """List the workspace's groups."""
    columns = ["id", "name", "created"] + (["members"] if members else [])
    table = Table(*columns)
    with api_client(url, token) as client:
        for group in client.groups(sort_by=sort.upper()):
            row = [group["id"], group["name"], group["createdAt"]]
            if members:
                row.append(", ".join(m["email"] for m in client.group_members(group["id"])))
            table.add_row(*row)
    console.print(table)


@app.command("create")
def create(
    name: str,
    member: Annotated[
        list[str] | None, typer.Option("--member", "-m", help="A member's user id (repeat).")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Create a group, with members if given."""
    with api_client(url, token) as client:
        group = client.create_group(name, member or [])
    count = len(group["members"]["users"])
    console.print(f"Group {group['id']}  {group['name']}  ({count} member(s))")


@app.command("rename")
def rename(group_id: str, name: str, url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """Rename a group."""
    with api_client(url, token) as client:
        group = client.edit_group(group_id, name=name)
    console.print(f"Group {group['id']} is now {group['name']}")


@app.command("add-members")
def add_members(
    group_id: str, user_ids: UserIds, url: UrlOption = DEFAULT_URL, token: TokenOption = ""
) -> None:
    """Add users to a group (users already in it stay)."""
    with api_client(url, token) as client:
        group = client.edit_group(group_id, add=user_ids)
    console.print(f"Added {len(user_ids)} user(s) to {group['name']}")


@app.command("remove-members")
def remove_members(
    group_id: str, user_ids: UserIds, url: UrlOption = DEFAULT_URL, token: TokenOption = ""
) -> None:
    """Remove users from a group."""
    with api_client(url, token) as client:
        group = client.edit_group(group_id, remove=user_ids)
    console.print(f"Removed {len(user_ids)} user(s) from {group['name']}")


@app.command("delete")
def delete(group_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """Delete a group; its members stay users, and what was shared with the group is not."""
    with api_client(url, token) as client:
        client.delete_group(group_id)
    console.print(f"Deleted group {group_id}")
