"""`runyard collections …`: list, create, update and share collections; add and remove
projects."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from runyard.cli.connection import DEFAULT_URL, TokenOption, UrlOption, api_client

app = typer.Typer(
    help="Collections of projects, and who they are shared with.", no_args_is_help=True
)
console = Console()

ACCESS = ("NONE", "APP_ONLY", "CAN_VIEW", "CAN_EDIT", "FULL_ACCESS")
Grants = Annotated[
    list[str] | None,
    typer.Option(help="ID=ACCESS (repeat); ACCESS is one of " + ", ".join(ACCESS) + "."),
]


def _grants(values: list[str] | None, option: str) -> list[dict[str, str]]:
    grants = []
    for value in values or []:
        ident, sep, access = value.partition("=")
        if not sep or access.upper() not in ACCESS:
            raise typer.BadParameter(f"expected ID=ACCESS, got {value!r}", param_hint=option)
        grants.append({"id": ident.strip(), "access": access.upper()})
    return grants


def _sharing(
    users: list[str] | None, groups: list[str] | None, workspace: str | None
) -> dict[str, Any]:
    sharing: dict[str, Any] = {}
    if users:
        sharing["users"] = _grants(users, "--user")
    if groups:
        sharing["groups"] = _grants(groups, "--group")
    if workspace:
        if workspace.upper() not in ACCESS:
            raise typer.BadParameter(f"one of {', '.join(ACCESS)}", param_hint="--workspace")
        sharing["workspace"] = {"members": workspace.upper()}
    return sharing


def _print(collection: dict[str, Any]) -> None:
    sharing = collection["sharing"]
    console.print(f"Collection {collection['id']}  {collection['name']}")
    if collection.get("description"):
        console.print(f"  {collection['description']}")
    console.print(f"  workspace members: {sharing['workspace']['members']}")
    for kind in ("users", "groups"):
        for grant in sharing[kind]:
            console.print(f"  {kind[:-1]} {grant['id']}: {grant['access']}")


@app.command("list")
def list_(url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """List the collections you can see, by name."""
    table = Table("id", "name", "description", "workspace")
    with api_client(url, token) as client:
        for collection in client.collections():
            table.add_row(
                collection["id"],
                collection["name"],
                collection.get("description") or "-",
                collection["sharing"]["workspace"]["members"],
            )
    console.print(table)


@app.command("create")
def create(
    name: str,
    description: Annotated[str | None, typer.Option(help="What the collection is for.")] = None,
    user: Grants = None,
    group: Grants = None,
    workspace: Annotated[
        str | None, typer.Option(help="Access for every workspace member (not guests).")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Create a collection, shared as given."""
    sharing = _sharing(user, group, workspace)
    with api_client(url, token) as client:
        collection = client.create_collection(
            name, description=description, sharing=sharing or None
        )
    _print(collection)


@app.command("update")
def update(
    collection_id: str,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    description: Annotated[str | None, typer.Option(help="A new description.")] = None,
    user: Grants = None,
    group: Grants = None,
    workspace: Annotated[
        str | None, typer.Option(help="Access for every workspace member (NONE to stop).")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Rename, describe, or change who a collection is shared with (ACCESS NONE removes)."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if description is not None:
        changes["description"] = description
    sharing = _sharing(user, group, workspace)
    if sharing:
        changes["sharing"] = {"upsert": sharing}
    if not changes:
        raise typer.BadParameter("nothing to change: give --name, --description or sharing")
    with api_client(url, token) as client:
        collection = client.edit_collection(collection_id, changes)
    _print(collection)


def _put_project(collection_id: str, project_id: str, access: str, url: str, token: str) -> None:
    with api_client(url, token) as client:
        answer = client.share_project_with_collections(project_id, {collection_id: access})
    for problem in answer.get("errors") or []:
        console.print(f"[red]{', '.join(problem['collectionIds'])}: {problem['reason']}[/red]")
        raise typer.Exit(1)


@app.command("add-project")
def add_project(
    collection_id: str,
    project_id: str,
    access: Annotated[str, typer.Option(help="What the collection's members may do.")] = "CAN_VIEW",
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Put a project in a collection."""
    if access.upper() not in ACCESS[1:]:
        raise typer.BadParameter(f"one of {', '.join(ACCESS[1:])}", param_hint="--access")
    _put_project(collection_id, project_id, access.upper(), url, token)
    console.print(f"Project {project_id} is in collection {collection_id} ({access.upper()})")


@app.command("remove-project")
def remove_project(
    collection_id: str, project_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = ""
) -> None:
    """Take a project out of a collection."""
    _put_project(collection_id, project_id, "NONE", url, token)
    console.print(f"Project {project_id} is no longer in collection {collection_id}")


@app.command("projects")
def projects(collection_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """List the projects in a collection."""
    table = Table("id", "title", "owner")
    with api_client(url, token) as client:
        for project in client.projects_in_collection(collection_id):
            table.add_row(project["id"], project["title"], project["owner"]["email"])
    console.print(table)
