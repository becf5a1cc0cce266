"""`runyard connections …`: list, create, update and delete data connections.

Secret fields are never taken from the command line, where shell history and `ps` would keep
them: `--secret password` reads `RUNYARD_CONNECTION_PASSWORD` from the environment, or
prompts without echo; `--secret-file key=path` reads a file (service-account JSON, PEM keys).
Nothing this command prints contains a secret: the server never answers with one.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, get_args

import typer
from rich.console import Console
from rich.table import Table

from runyard.cli.connection import DEFAULT_URL, TokenOption, UrlOption, api_client
from runyard.domain.connections import DETAILS, ConnectionType

app = typer.Typer(
    help="Data connections (admins change them; secrets are write-only).", no_args_is_help=True
)
console = Console()

DetailOption = Annotated[
    list[str] | None,
    typer.Option(
        "--detail",
        "-d",
        help="A non-secret field KEY=VALUE (repeat); KEY:=JSON for a JSON value.",
    ),
]
SecretOption = Annotated[
    list[str] | None,
    typer.Option(
        "--secret",
        "-s",
        help="A secret field's name (repeat): read from RUNYARD_CONNECTION_<NAME> or prompted.",
    ),
]
CacheLifetimeOption = Annotated[
    int | None,
    typer.Option(
        "--cache-lifetime",
        min=0,
        help="Seconds a SQL cell's result on it is reused by runs with useCachedSqlResults "
        "(default 300); 0 keeps none.",
    ),
]
SecretFileOption = Annotated[
    list[str] | None,
    typer.Option("--secret-file", help="A secret field read from a file: KEY=PATH (repeat)."),
]


def secret_env_name(key: str) -> str:
    """`serviceAccountJsonConfig` -> `RUNYARD_CONNECTION_SERVICE_ACCOUNT_JSON_CONFIG`."""
    return "RUNYARD_CONNECTION_" + re.sub(r"(?<!^)(?=[A-Z])", "_", key).upper()


def _kind(value: str) -> ConnectionType:
    try:
        return ConnectionType(value.lower())
    except ValueError:
        choices = ", ".join(kind.value for kind in ConnectionType)
        raise typer.BadParameter(f"one of {choices}", param_hint="--type") from None


def _typed(kind: ConnectionType, key: str, raw: str) -> Any:
    """A `--detail` value as the type's field wants it: numbers and booleans parsed."""
    model = DETAILS[kind]
    for name, info in model.model_fields.items():
        if (info.alias or name) != key:
            continue
        wanted = (info.annotation, *get_args(info.annotation))
        if bool in wanted:
            return raw.lower() in ("true", "1", "yes")
        if int in wanted:
            try:
                return int(raw)
            except ValueError:
                raise typer.BadParameter(
                    f"{key}: expected a number", param_hint="--detail"
                ) from None
    return raw


def _details(
    kind: ConnectionType,
    details: list[str] | None,
    secrets: list[str] | None,
    secret_files: list[str] | None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for item in details or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--detail")
        if key.endswith(":"):
            try:
                fields[key[:-1]] = json.loads(value)
            except ValueError:
                raise typer.BadParameter(
                    f"{key[:-1]}: invalid JSON", param_hint="--detail"
                ) from None
        else:
            fields[key] = _typed(kind, key, value)
    for key in secrets or []:
        from_env = os.environ.get(secret_env_name(key))
        fields[key] = from_env if from_env else typer.prompt(key, hide_input=True)
    for item in secret_files or []:
        key, sep, path = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter("expected KEY=PATH", param_hint="--secret-file")
        fields[key] = Path(path).read_text()
    return fields


def _print_connection(connection: dict[str, Any]) -> None:
    details = (connection.get("connectionDetails") or {}).get(connection["type"]) or {}
    shown = ", ".join(f"{k}={v}" for k, v in details.items() if v is not None)
    lifetime = connection.get("cacheLifetimeSeconds")
    cache = "" if lifetime is None else f"  SQL cache {lifetime}s"
    console.print(
        f"{connection['id']}  {connection['name']}  ({connection['type']})  {shown}{cache}"
    )


@app.command("list")
def list_(
    sort: Annotated[str, typer.Option(help="NAME or CREATED_AT.")] = "NAME",
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw JSON.")] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """List the workspace's data connections (never their secrets)."""
    with api_client(url, token) as client:
        found = list(client.connections(sort_by=sort.upper()))
    if as_json:
        console.print_json(json.dumps(found))
        return
    table = Table("id", "name", "type", "details", "members")
    for connection in found:
        details = (connection.get("connectionDetails") or {}).get(connection["type"]) or {}
        table.add_row(
            connection["id"],
            connection["name"],
            connection["type"],
            ", ".join(f"{k}={v}" for k, v in details.items() if v is not None),
            connection["sharing"]["workspace"]["members"],
        )
    console.print(table)


@app.command("create")
def create(
    type_: Annotated[str, typer.Option("--type", help="postgres, mysql, sqlite, duckdb, …")],
    name: Annotated[str, typer.Option(help="The connection's name.")],
    detail: DetailOption = None,
    secret: SecretOption = None,
    secret_file: SecretFileOption = None,
    description: Annotated[str | None, typer.Option(help="A description.")] = None,
    cache_lifetime: CacheLifetimeOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Create a data connection.

    Example: runyard connections create --type postgres --name Warehouse
    -d hostname=db -d port=5432 -d database=sales -d username=analyst --secret password
    """
    kind = _kind(type_)
    fields = _details(kind, detail, secret, secret_file)
    options: dict[str, Any] = {"description": description} if description is not None else {}
    if cache_lifetime is not None:
        options["cacheLifetimeSeconds"] = cache_lifetime
    with api_client(url, token) as client:
        created = client.create_connection(name, kind.value, fields, **options)
    _print_connection(created)


@app.command("update")
def update(
    connection_id: str,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    type_: Annotated[
        str | None, typer.Option("--type", help="A new type (give all its details).")
    ] = None,
    detail: DetailOption = None,
    secret: SecretOption = None,
    secret_file: SecretFileOption = None,
    clear: Annotated[
        list[str] | None,
        typer.Option(help="Set a nullable field to null, e.g. sslRootCert (repeat)."),
    ] = None,
    description: Annotated[str | None, typer.Option(help="A new description.")] = None,
    cache_lifetime: CacheLifetimeOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Change a data connection; secrets not named keep their stored values."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if description is not None:
        changes["description"] = description
    if cache_lifetime is not None:
        changes["cacheLifetimeSeconds"] = cache_lifetime
    with api_client(url, token) as client:
        kind = _kind(type_) if type_ else _kind(client.connection(connection_id)["type"])
        fields = _details(kind, detail, secret, secret_file)
        fields.update({key: None for key in clear or []})
        if type_:
            changes["type"] = kind.value
        if fields:
            changes["connectionDetails"] = {kind.value: fields}
        updated = client.update_connection(connection_id, changes)
    _print_connection(updated)


@app.command("delete")
def delete(
    connection_id: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm.")] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Delete a data connection and its encrypted secrets."""
    if not yes:
        typer.confirm(f"Delete data connection {connection_id}?", abort=True)
    with api_client(url, token) as client:
        client.delete_connection(connection_id)
    console.print(f"Deleted data connection {connection_id}")
