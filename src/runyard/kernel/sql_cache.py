"""The SQL result cache as the runner sees it: a key, a kept result, and two callables.

The runner knows neither where results are kept nor who may read them. The worker's
service (services/sql_cache.py) gives it a `SqlCache` for the run: `lookup` checks the
run's requester's QUERY access and the connection's cache lifetime each time before it hands
back a result, and `keep` stores a fresh one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runyard.kernel.sql_cells import QueryResult


@dataclass(frozen=True)
class CacheKey:
    """What a kept result answers: this SQL, with these bound values, on this connection,
    cut at this row limit (a result cut at 100 rows does not answer a limit of 1000)."""

    connection_id: str
    sql: str
    values: Mapping[str, Any]
    row_limit: int

    def digest(self) -> str:
        """sha256 (hex) of the SQL text, the bound values and the row limit: the values go
        into the digest and nowhere else, since a parameter may be secret."""
        text = json.dumps(
            {"sql": self.sql, "values": dict(self.values), "rowLimit": self.row_limit},
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class CachedResult:
    """A kept result: the Parquet file's bytes and what is known about them."""

    content: bytes
    rows: int
    columns: int
    truncated: bool
    queried_at: datetime
    age_seconds: float
    lifetime_seconds: int


@dataclass(frozen=True)
class SqlCache:
    """One run's access to the cache.

    `reuse` is the run's `useCachedSqlResults`: when False every SQL cell queries, and its
    result replaces the kept one. `lookup(key)` returns a result younger than the
    connection's cache lifetime, or None; it raises SqlCellError when the run's requester
    may not query the connection (a kept result never reaches them). `keep(key, content,
    result)` stores a fresh result and returns what became of it, in words for the run log.
    """

    reuse: bool
    lookup: Callable[[CacheKey], CachedResult | None]
    keep: Callable[[CacheKey, bytes, QueryResult], str]


def age_text(seconds: float) -> str:
    """`42s`, `5 min 3s`, `2 h 10 min`: an age for people."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60}s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"
