"""The SQL result cache behind RunProject's `useCachedSqlResults`.

A SQL cell's result is kept in the store (`sql_results`), per data connection, under a
digest of its SQL text, bound values and row limit. A run that allows it reuses a result
younger than the connection's cache lifetime; every fresh query replaces the kept result.

Why the store and not files under RUNYARD_HOME: with Celery, runs execute on many machines
whose RUNYARD_HOME is their own, so only the store is shared by every worker; it also keeps
the result and its index row in one transaction, and pruning is one DELETE.

Access: a kept result is handed to a run only after its requester's QUERY access to the
connection is checked again, at the moment of reuse, as the claim checked it; someone
without QUERY never gets rows from the cache.

Size: results larger than the whole cache are not kept, and past the bound the longest
queried results go first, when a result is kept and in the scheduler's upkeep, which also
deletes results older than their connection's lifetime.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from runyard.kernel.sql_cache import CachedResult, CacheKey, SqlCache
from runyard.kernel.sql_cells import QueryResult, SqlCellError
from runyard.services.connections import requester_may_query
from runyard.store import connections as connections_store
from runyard.store import sql_cache as store
from runyard.store.db import Database
from runyard.store.sql_cache import SqlResultRow

log = logging.getLogger(__name__)

# Between upkeep passes that found nothing to prune.
UPKEEP_IDLE_SECONDS = 60.0


class SqlCacheService:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        max_bytes: int,
        idle_seconds: float = UPKEEP_IDLE_SECONDS,
    ) -> None:
        """`max_bytes` bounds the results kept, all together; 0 keeps none."""
        self._db = db
        self._clock = clock
        self._max_bytes = max_bytes
        self._idle_seconds = idle_seconds
        self._next_pass: datetime | None = None

    def for_run(self, requester: str | None, reuse: bool) -> SqlCache:
        """The cache as one run's SQL cells see it: `requester` is the run's (for a
        scheduled run, the schedule's creator), `reuse` its `useCachedSqlResults`."""
        return SqlCache(
            reuse=reuse,
            lookup=lambda key: self.lookup(requester, key),
            keep=self.keep,
        )

    def lookup(self, requester: str | None, key: CacheKey) -> CachedResult | None:
        """The result kept for `key` if it is younger than its connection's cache lifetime.

        Raises SqlCellError if `requester` may not query the connection now, whether or not
        a result is kept: access is checked before anything is read.
        """
        now = self._clock()
        with self._db.read() as session:
            connection = connections_store.get_connection(session, key.connection_id)
            if connection is None:
                return None
            if not requester_may_query(session, connection, requester):
                raise SqlCellError(
                    "ConnectionUnavailable",
                    f"the run's requester may not query data connection {connection.name!r}"
                    " (it needs QUERY access), so no cached result is shown",
                )
            lifetime = connection.sql_cache_lifetime_seconds
            if lifetime <= 0 or self._max_bytes <= 0:
                return None
            row = store.get_result(session, key.connection_id, key.digest())
            if row is None:
                return None
            # A clock a little behind the one that kept it must not make an age negative.
            age = max((now - row.queried_at).total_seconds(), 0.0)
            if age >= lifetime:
                return None
            return CachedResult(
                content=row.content,
                rows=row.rows,
                columns=row.columns,
                truncated=row.truncated,
                queried_at=row.queried_at,
                age_seconds=age,
                lifetime_seconds=lifetime,
            )

    def keep(self, key: CacheKey, content: bytes, result: QueryResult) -> str:
        """Keep a fresh result in place of the one kept for `key`; return what became of it,
        for the run log. Never raises for the store's sake: the query's result stands."""
        size = len(content)
        try:
            with self._db.write() as session:
                connection = connections_store.get_connection(session, key.connection_id)
                if connection is None:
                    return "result not kept: the data connection no longer exists"
                if connection.sql_cache_lifetime_seconds <= 0:
                    return "result not kept: the data connection's cache lifetime is 0"
                if self._max_bytes <= 0:
                    return "result not kept: the SQL result cache is off (RUNYARD_SQL_CACHE_MAX_MB)"
                if size > self._max_bytes:
                    return (
                        f"result not kept: its {_megabytes(size)} exceed the SQL result cache's"
                        f" {_megabytes(self._max_bytes)} (RUNYARD_SQL_CACHE_MAX_MB)"
                    )
                store.replace_result(
                    session,
                    SqlResultRow(
                        connection_id=key.connection_id,
                        key=key.digest(),
                        content=content,
                        size_bytes=size,
                        rows=result.rows,
                        columns=result.columns,
                        truncated=result.truncated,
                        # When the query started: the data is as of then.
                        queried_at=self._clock() - timedelta(seconds=result.seconds),
                    ),
                )
                lifetime = connection.sql_cache_lifetime_seconds
        except IntegrityError:
            # Another run kept the same query's result at the same moment: as fresh as ours.
            return "result not kept: another run kept the same query's result just now"
        except SQLAlchemyError as exc:
            # The cell has its result already; a store that refused to keep it costs only a
            # query next time.
            log.warning("could not keep a SQL result: %s", exc)
            return f"result not kept: the store refused it ({type(exc).__name__})"
        self._shrink()
        return f"result kept in the SQL result cache ({_megabytes(size)}, reused for {lifetime}s)"

    def prune(self, now: datetime) -> int:
        """Delete the results older than their connection's cache lifetime, then the longest
        queried ones while the cache holds more than its bound; return how many went."""
        deleted = 0
        with self._db.write() as session:
            for connection_id, lifetime in store.lifetimes(session):
                cutoff = now - timedelta(seconds=max(lifetime, 0))
                deleted += store.delete_queried_before(session, connection_id, cutoff)
        deleted += self._shrink()
        if deleted:
            log.info("SQL result cache: deleted %d result(s)", deleted)
        return deleted

    def upkeep(self, now: datetime) -> bool:
        """Prune if a pass is due; True if results went (the loop may look again at once)."""
        if self._next_pass is not None and now < self._next_pass:
            return False
        self._next_pass = now + timedelta(seconds=self._idle_seconds)
        return self.prune(now) > 0

    def _shrink(self) -> int:
        """Delete the longest queried results until the cache is within its bound."""
        with self._db.write() as session:
            excess = store.total_bytes(session) - self._max_bytes
            if excess <= 0:
                return 0
            going: list[tuple[str, str]] = []
            for connection_id, key, size in store.oldest_first(session):
                if excess <= 0:
                    break
                going.append((connection_id, key))
                excess -= size
            return store.delete_results(session, going)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.2f} MB"
