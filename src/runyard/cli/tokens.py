"""`runyard tokens …`: create (the secret is printed once), list and revoke API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from runyard.cli.connection import DEFAULT_URL, TokenOption, UrlOption, api_client

app = typer.Typer(help="Personal (hxtp_) and workspace (hxtw_) API tokens.", no_args_is_help=True)
console = Console()


@app.command("create")
def create(
    type_: Annotated[
        str, typer.Option("--type", help="personal (acts as you) or workspace (scoped).")
    ] = "personal",
    description: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", "-s", help="A scope of a workspace token, e.g. projects:run."),
    ] = None,
    days: Annotated[int | None, typer.Option(help="Expire this many days from now.")] = None,
    never_expires: Annotated[
        bool, typer.Option("--never-expires", help="A workspace token without expiry.")
    ] = False,
    user_id: Annotated[
        str | None, typer.Option(help="Admins: issue a personal token for this user.")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Create a token and print its secret: it is shown only this once."""
    body: dict[str, Any] = {"type": type_.upper(), "scopes": scope or []}
    if description:
        body["description"] = description
    if days is not None:
        body["expiresAt"] = (datetime.now(UTC) + timedelta(days=days)).isoformat()
    elif never_expires:
        body["expiresAt"] = None
    if user_id:
        body["userId"] = user_id
    with api_client(url, token) as client:
        created = client.create_token(body)
    console.print(
        f"Token {created['id']} ({created['type']}), expires {created['expiresAt'] or 'never'}."
        " Its secret is shown only this once; keep it:\n"
    )
    console.print(f"    {created['token']}\n", soft_wrap=True)


@app.command("list")
def list_(url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """List your tokens (an admin sees all of them). Secrets are never shown."""
    table = Table("id", "type", "user", "description", "scopes", "expires", "last used", "state")
    with api_client(url, token) as client:
        for item in client.tokens():
            table.add_row(
                item["id"],
                item["type"],
                item["user"]["email"],
                item.get("description") or "-",
                " ".join(item["scopes"]) or "-",
                item.get("expiresAt") or "never",
                item.get("lastUsedAt") or "-",
                "revoked" if item.get("revokedAt") else "active",
            )
    console.print(table)


@app.command("revoke")
def revoke(token_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """Revoke a token: it is refused from the next request on."""
    with api_client(url, token) as client:
        client.revoke_token(token_id)
    console.print(f"Revoked token {token_id}")
