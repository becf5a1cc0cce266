"""What every wire model builds on: the base classes, the timestamp format, the refusal of
text no store can keep, and Hex's pagination cursor. The JSON shapes themselves (Hex's API v1
and Runyard's extensions) live one module per resource beside this one: `project_wire`,
`run_wire`, `schedule_wire`, `connection_wire` and so on; a router imports the module that
defines the model it uses.

Field names follow `shared/api/hex-api-v1.md` exactly (camelCase). Timestamps go out as
`YYYY-MM-DDTHH:MM:SS.mmmZ`: DataHub's client parses that fixed format and nothing else.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from runyard.domain.access import AccessLevel


def format_ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    # Hex's shape, `2026-01-02T03:04:05.678Z`: milliseconds, in UTC, with a Z.
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


# NUL, which PostgreSQL stores in neither text nor jsonb, and the halves of surrogate pairs,
# which have no UTF-8 form (JSON's "\ud800" escape yields one): no store or answer takes them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def refuse_unstorable_text(value: Any) -> Any:
    """`value` unchanged, or ValueError if a string in it (a key included) holds a character
    that cannot be stored or sent back: NUL, or a lone surrogate."""
    pending = [value]
    while pending:  # a loop, not recursion: JSON may nest deeper than Python's stack
        item = pending.pop()
        if isinstance(item, str):
            found = _UNSTORABLE.search(item)
            if found and found.group() == "\x00":
                raise ValueError("must not contain the NUL character (\\u0000)")
            if found:
                raise ValueError("must be Unicode text (a lone surrogate is not)")
        elif isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list | tuple):
            pending += item
    return value


def not_blank(value: str) -> str:
    """`value` unchanged, or ValueError if it is only white space (for names that must say
    something: a user's, a saved view's)."""
    if not value.strip():
        raise ValueError("must not be blank")
    return value


class RequestWire(BaseModel):
    """Request bodies. No string in one may hold NUL or a lone surrogate: PostgreSQL would
    refuse the first (a 500 there, yet stored on SQLite), and neither store nor JSON answer
    can encode the second; refused here, each is a 400 naming the field. Nested models check
    their own fields."""

    @field_validator("*")
    @classmethod
    def _storable_fields(cls, value: Any) -> Any:
        return refuse_unstorable_text(value)

    @model_validator(mode="after")
    def _storable_extra_fields(self) -> Self:
        refuse_unstorable_text(self.__pydantic_extra__ or {})
        return self


class StrictWire(RequestWire):
    """Request bodies whose contract forbids unknown fields."""

    model_config = ConfigDict(extra="forbid")


# -- pagination (contract §3) --------------------------------------------------------------


class Pagination(Wire):
    after: str | None
    before: str | None


# -- a collection's workspace sharing, kept in this module for its schema's name -----------


# The `workspace` of a collection's sharing (collection_wire uses it). It lives here, not in
# collection_wire, for one reason: connection_wire has a WorkspaceSharingIn too, so
# /openapi.json names both schemas by module, and this one was published as
# `runyard__api__wire__WorkspaceSharingIn`. Moved, the schema would be renamed for every
# client generated from the document. (A comment, not a docstring: a docstring would become
# the schema's description.)
class WorkspaceSharingIn(StrictWire):
    members: AccessLevel | None = None
