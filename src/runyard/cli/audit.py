"""`runyard audit`: who changed what in the workspace, newest first (admins only)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from runyard.cli.connection import DEFAULT_URL, TokenOption, UrlOption, api_client

console = Console()


def audit(
    action: Annotated[
        str | None, typer.Option(help="Only actions starting with this, e.g. user. or run.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many events, newest first.")] = 50,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Show the audit log: admin changes and run triggers and cancels."""
    table = Table("at", "action", "actor", "target", "details", "trace id")
    with api_client(url, token) as client:
        for event in client.audit(action=action, limit=limit):
            target = event["target"]
            table.add_row(
                event["at"],
                event["action"],
                event["actor"]["email"] or "-",
                f"{target['type']} {target['id']}",
                json.dumps(event["details"], sort_keys=True),
                event["traceId"] or "",
            )
    console.print(table)
