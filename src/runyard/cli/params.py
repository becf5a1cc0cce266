"""Input parameters given on the command line as NAME=VALUE."""

from __future__ import annotations

import json
from typing import Any

import typer


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """`k=v` pairs: values that look like JSON arrays or objects are parsed, everything else
    is sent as a string and coerced by the server to the parameter's declared type."""
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--param")
        value: Any = raw
        if raw[:1] in "[{":
            try:
                value = json.loads(raw)
            except ValueError as error:
                raise typer.BadParameter(f"{name}: invalid JSON: {error}") from error
        values[name] = value
    return values
