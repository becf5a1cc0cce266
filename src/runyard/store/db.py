"""Engine, sessions and migrations: the one place that knows which database is behind us."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_BEGIN_MODE = "runyard_sqlite_begin"
# Connections a network database's pool keeps open; up to 20 more are opened when needed and
# closed after.
_KEPT_CONNECTIONS = 10
# Threads that keep a connection for quick reads on SQLite: the event loop, and a margin.
_KEPT_QUICK_CONNECTIONS = 4


log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """Create an engine with the settings each dialect needs for concurrent use."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # pool_pre_ping: a scheduler or worker outlives database restarts.
    return create_engine(url, pool_pre_ping=True, pool_size=_KEPT_CONNECTIONS, max_overflow=20)


def _sqlite_engine(url: str) -> Engine:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    _prepare_sqlite_connections(engine, busy_timeout_ms=30000)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that reads and then writes must upgrade its lock, and SQLite
        # answers SQLITE_BUSY at once (busy_timeout does not apply to upgrades). Writers
        # therefore take the write lock up front with BEGIN IMMEDIATE.
        mode = connection.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _quick_read_engine(url: str) -> Engine:
    """SQLite connections for quick reads on the caller's own thread (`Database.quick_read`).

    Each thread that makes quick reads (the event loop, in practice) keeps one connection
    open for good, outside the pool the worker threads share: a quick read never waits for
    a connection, nor pays for taking one and giving it back. Without the `begin` listener
    each statement is its own snapshot, with no BEGIN and ROLLBACK around it. In WAL mode a
    reader does not wait for writers; the short busy timeout bounds the rare waits that
    remain (a checkpoint's recovery), since the caller may be the event loop.
    """
    engine = create_engine(
        url, poolclass=NullPool, connect_args={"check_same_thread": False, "timeout": 1}
    )
    _prepare_sqlite_connections(engine, busy_timeout_ms=1000)
    return engine


def _prepare_sqlite_connections(engine: Engine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so that we can say BEGIN IMMEDIATE
        # (in `_sqlite_engine`); its own implicit BEGIN is deferred.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers proceed while one writer writes; the busy timeout makes a second
        # writer wait for the lock instead of failing at once.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()


class Database:
    """Sessions for the services: `with db.write() as s:` commits, or rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Created on first use: most processes (workers, the CLI) never make a quick read.
        self._quick_engine: Engine | None = None
        self._quick_sessions: sessionmaker[Session] | None = None
        self._kept = threading.local()  # on SQLite, each thread's own quick-read connection
        self._kept_connections: list[Connection] = []
        self._kept_lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The factory of this database's sessions, for store modules that listen to their
        events (`store.identity.IdentityChanges`)."""
        return self._sessions

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._sessions() as session:
            if self.dialect == "sqlite":
                session.connection(execution_options={_BEGIN_MODE: "IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads. Closing it ends the transaction without expiring the rows it
        loaded, so callers may keep using them."""
        with self._sessions() as session:
            yield session

    @property
    def quick_reads_inline(self) -> bool:
        """Whether a `quick_read` may run on an event loop rather than in a worker thread.

        True for SQLite: a read of a few pages of a local file takes tens of microseconds,
        less than the hop to a worker thread and back, which under load also makes the loop
        and the threads take turns for the GIL. A network database keeps its reads off the
        loop, where a slow server would stall every request.
        """
        # An in-memory database exists once per connection: another engine would not see it.
        return self.dialect == "sqlite" and self.engine.url.database not in (None, "", ":memory:")

    @contextmanager
    def quick_read(self) -> Iterator[Session]:
        """A session for one short read, such as a run's status, whose statements each run
        on their own, outside a transaction: no BEGIN and ROLLBACK around them, which on a
        network database are two more round trips than the read itself. On SQLite it has
        connections of its own, so that it may run on the caller's thread (see
        `quick_reads_inline`); elsewhere it takes the pool's connections, at most
        `quick_read_concurrency` at once."""
        if self.quick_reads_inline:
            with (
                self._quick_connection() as connection,
                Session(bind=connection, expire_on_commit=False) as session,
            ):
                yield session
        elif self.dialect == "sqlite":  # in memory: only this engine sees the database
            with self.read() as session:
                yield session
        else:
            if self._quick_sessions is None:
                autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
                self._quick_sessions = sessionmaker(autocommit, expire_on_commit=False)
            with self._quick_sessions() as session:
                yield session

    @contextmanager
    def _quick_connection(self) -> Iterator[Connection]:
        """The calling thread's kept SQLite connection, made on its first quick read. Past
        `_KEPT_QUICK_CONNECTIONS` threads (there is one event loop), a connection for the one
        read; a connection that failed is closed and made anew on the next."""
        kept: Connection | None = getattr(self._kept, "connection", None)
        if kept is None:
            with self._kept_lock:
                if self._quick_engine is None:
                    self._quick_engine = _quick_read_engine(self.url)
                engine = self._quick_engine
                if len(self._kept_connections) < _KEPT_QUICK_CONNECTIONS:
                    kept = engine.connect()
                    self._kept_connections.append(kept)
                    self._kept.connection = kept
            if kept is None:
                with engine.connect() as once:
                    yield once
                return
        try:
            yield kept
        except DBAPIError:
            with self._kept_lock:
                self._kept_connections.remove(kept)
            del self._kept.connection
            kept.close()
            raise

    @property
    def quick_read_concurrency(self) -> int:
        """How many quick reads off the event loop should run at once: the connections the
        pool keeps. More would open and close a connection each (the pool's overflow), a
        new server process per read on PostgreSQL."""
        return _KEPT_CONNECTIONS

    def dispose(self) -> None:
        self.engine.dispose()
        with self._kept_lock:
            for connection in self._kept_connections:
                connection.close()
            self._kept_connections.clear()
            self._kept = threading.local()


# Alembic (with Mako and every dialect's DDL) is imported only by the functions that migrate:
# `runyard serve` migrates in a short-lived child process (store/migrate_process.py), so the
# server never holds those modules (about 11 MB).


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`; safe to call on every start."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


class StoreNotMigrated(RuntimeError):
    """The store's schema is not (or not yet) the one this code was built for."""


def wait_until_migrated(url: str, seconds: float = 120.0) -> None:
    """Return once the store's schema is at this code's head revision; raise
    StoreNotMigrated if it is at a revision this code does not know, or still behind after
    `seconds`."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(url))
    heads = set(script.get_heads())
    deadline = time.monotonic() + seconds
    engine = make_engine(url)
    try:
        while True:
            with engine.connect() as connection:
                current = set(MigrationContext.configure(connection).get_current_heads())
            if current == heads:
                return
            unknown = [rev for rev in current if script.get_revision(rev) is None]
            if unknown:
                raise StoreNotMigrated(
                    f"The store is at revision {', '.join(unknown)}, newer than this Runyard; "
                    "upgrade Runyard on this machine"
                )
            if time.monotonic() > deadline:
                raise StoreNotMigrated(
                    f"The store is still not migrated after {seconds:g}s; run `runyard migrate` "
                    "or start `runyard serve`, which migrates it"
                )
            log.info("waiting for the store to be migrated (by `runyard serve` or `migrate`)")
            time.sleep(1.0)
    finally:
        engine.dispose()
