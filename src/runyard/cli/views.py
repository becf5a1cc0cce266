"""`runyard views …`: a project's saved views (named input values for `runs trigger --view`)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from runyard.cli.connection import DEFAULT_URL, TokenOption, UrlOption, api_client
from runyard.cli.params import parse_params

app = typer.Typer(help="Saved views: named sets of a project's inputs.", no_args_is_help=True)
console = Console()


@app.command("list")
def list_(project_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """List a project's saved views."""
    table = Table("id", "name", "inputs")
    with api_client(url, token) as client:
        for view in client.views(project_id):
            inputs = ", ".join(f"{k}={json.dumps(v)}" for k, v in view["inputParams"].items())
            table.add_row(view["id"], view["name"], inputs or "(defaults)")
    console.print(table)


@app.command("create")
def create(
    project_id: str,
    name: str,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Input parameter NAME=VALUE.")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Save a view: NAME for these input values."""
    with api_client(url, token) as client:
        view = client.create_view(project_id, name, parse_params(param or []))
    console.print(f"View {view['id']}: {view['name']}")


@app.command("rename")
def rename(
    project_id: str, view_id: str, name: str, url: UrlOption = DEFAULT_URL, token: TokenOption = ""
) -> None:
    """Rename a saved view."""
    with api_client(url, token) as client:
        view = client.rename_view(project_id, view_id, name)
    console.print(f"View {view['id']}: {view['name']}")


@app.command("delete")
def delete(
    project_id: str, view_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = ""
) -> None:
    """Delete a saved view."""
    with api_client(url, token) as client:
        client.delete_view(project_id, view_id)
    console.print(f"Deleted view {view_id}")
