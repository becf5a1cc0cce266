"""Hex's cursor pagination over a keyset (sort value, id), for lists sorted by a text key.

A cursor is the opaque, URL-safe encoding of the (sort value, id) of the row a page starts
after (or ends before). The store answers "the next `limit` rows after this key, in this
direction"; `page` turns that into `{values, after, before}` as the contract's §3 wants, with
`after` null on the last page.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from runyard.errors import BadRequest

R = TypeVar("R")

Key = tuple[str, str]  # (sort value as text, id)


@dataclass(frozen=True)
class Page(Generic[R]):
    values: list[R]
    after: str | None
    before: str | None


def encode(key: Key) -> str:
    payload = json.dumps(list(key)).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode(cursor: str, name: str = "cursor") -> Key:
    """The key a cursor carries; a 400 naming the query parameter (`after`, `before`) if it
    is not one this server made."""
    problem = f"{name}: not a pagination cursor of this list"
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, ident = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError) as error:
        raise BadRequest(problem, issues=[problem]) from error
    if not isinstance(value, str) or not isinstance(ident, str):
        raise BadRequest(problem, issues=[problem])
    return value, ident


def page(
    fetch: Callable[[Key | None, bool, int], list[R]],
    key_of: Callable[[R], Key],
    *,
    descending: bool,
    after: str | None,
    before: str | None,
    limit: int,
) -> Page[R]:
    """One page of rows.

    `fetch(start, descending, n)` returns up to n rows strictly beyond `start` in that
    direction. Walking back from a `before` cursor is a forward walk in the opposite
    direction, reversed:
    1. fetch one row more than asked, to learn whether another page follows;
    2. reverse the rows when walking back, so a page always reads in the requested order;
    3. `after` is set when more rows follow, `before` when rows precede.
    """
    if after and before:
        raise BadRequest("Pass either 'after' or 'before', not both")
    start = decode(after, "after") if after else decode(before, "before") if before else None
    backwards = before is not None
    rows = fetch(start, descending != backwards, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    if not rows:
        return Page(values=[], after=None, before=None)
    has_next = more if not backwards else True
    has_prev = (start is not None) if not backwards else more
    return Page(
        values=rows,
        after=encode(key_of(rows[-1])) if has_next else None,
        before=encode(key_of(rows[0])) if has_prev else None,
    )
