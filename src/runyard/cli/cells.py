"""`runyard cells …`: Hex's cells API over a project's draft notebook."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from runyard.cli.connection import DEFAULT_URL, TokenOption, UrlOption, api_client

app = typer.Typer(help="Cells of a project's draft notebook.", no_args_is_help=True)
console = Console()


@app.command("list")
def list_(project_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """List the draft's cells in order."""
    table = Table("id", "type", "first line")
    with api_client(url, token) as client:
        for cell in client.cells(project_id):
            table.add_row(cell["id"], cell["cellType"], _source(cell).split("\n", 1)[0][:60])
    console.print(table)


@app.command("add")
def add(
    project_id: str,
    source: str,
    cell_type: Annotated[str, typer.Option("--type", help="CODE, SQL or MARKDOWN.")] = "CODE",
    connection: Annotated[
        str | None, typer.Option(help="For SQL: the data connection id or name.")
    ] = None,
    output: Annotated[str | None, typer.Option(help="For SQL: the DataFrame's name.")] = None,
    after: Annotated[str | None, typer.Option(help="Place it after this cell id.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Add a cell to the draft (at the end, or after --after)."""
    kind = cell_type.upper()
    contents: dict[str, Any]
    if kind == "SQL":
        contents = {
            "sqlCell": {"source": source, "dataConnectionId": connection, "outputDataframe": output}
        }
    else:
        contents = {"markdownCell" if kind == "MARKDOWN" else "codeCell": {"source": source}}
    body: dict[str, Any] = {"projectId": project_id, "cellType": kind, "contents": contents}
    if after:
        body["location"] = {"insertAfterCellId": after}
    with api_client(url, token) as client:
        cell = client.create_cell(body)
    console.print(f"Cell {cell['id']} ({cell['cellType']})")


@app.command("edit")
def edit(cell_id: str, source: str, url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """Replace a cell's source."""
    with api_client(url, token) as client:
        kind = client.cell(cell_id)["cellType"]
        variant = {"SQL": "sqlCell", "CODE": "codeCell"}.get(kind, "markdownCell")
        cell = client.update_cell(cell_id, {"contents": {variant: {"source": source}}})
    console.print(f"Cell {cell['id']} updated")


@app.command("delete")
def delete(cell_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """Delete a cell from the draft."""
    with api_client(url, token) as client:
        client.delete_cell(cell_id)
    console.print(f"Deleted cell {cell_id}")


@app.command("output")
def output(cell_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """Print the cell's table (or error) from the latest run, as JSON."""
    with api_client(url, token) as client:
        console.print_json(json.dumps(client.cell_output(cell_id)))


def _source(cell: dict[str, Any]) -> str:
    for variant in cell["contents"].values():
        if variant:
            return str(variant.get("source", ""))
    return ""
