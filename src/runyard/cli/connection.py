"""How every client command reaches a server: URL and token options, and error output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from runyard.client import ApiError, RunyardClient

# runyard.client (httpx, which brings its own CLI's modules, Pygments among them) is imported
# when a command talks to a server: `runyard serve` never does, and does without them.

DEFAULT_URL = "http://127.0.0.1:8080"
UrlOption = Annotated[
    str, typer.Option("--url", envvar="RUNYARD_URL", help="Base URL of the Runyard server.")
]
TokenOption = Annotated[
    str, typer.Option("--token", envvar="RUNYARD_TOKEN", help="API token (hxtw_… or hxtp_…).")
]
errors = Console(stderr=True)


def client_for(url: str, token: str) -> RunyardClient:
    from runyard.client import RunyardClient

    if not token:
        errors.print("[red]No token: pass --token or set RUNYARD_TOKEN.[/red]")
        raise typer.Exit(2)
    return RunyardClient(url, token, on_rate_limited=_tell_rate_limited)


def _tell_rate_limited(seconds: float) -> None:
    errors.print(f"[yellow]Rate limited by the server; retrying in {seconds:.0f} s.[/yellow]")


def fail(error: ApiError) -> typer.Exit:
    errors.print(f"[red]Error {error}[/red]")
    return typer.Exit(1)


@contextmanager
def api_client(url: str, token: str) -> Iterator[RunyardClient]:
    """A client for one command; an error answer from the server ends the command with its
    message and exit code 1."""
    from runyard.client import ApiError

    with client_for(url, token) as client:
        try:
            yield client
        except ApiError as error:
            raise fail(error) from error
