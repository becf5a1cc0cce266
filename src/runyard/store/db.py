"""Engine, sessions and migrations: the one place that knows which database is behind us."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_BEGIN_MODE = "runyard_sqlite_begin"


log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """Create an engine with the settings each dialect needs for concurrent use."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # pool_pre_ping: a scheduler or worker outlives database restarts.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(url: str) -> Engine:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so that we can say BEGIN IMMEDIATE
        # below; its own implicit BEGIN is deferred.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers proceed while one writer writes; the busy timeout makes a second
        # writer wait for the lock instead of failing at once.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that reads and then writes must upgrade its lock, and SQLite
        # answers SQLITE_BUSY at once (busy_timeout does not apply to upgrades). Writers
        # therefore take the write lock up front with BEGIN IMMEDIATE.
        mode = connection.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Database:
    """Sessions for the services: `with db.write() as s:` commits, or rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

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

    def dispose(self) -> None:
        self.engine.dispose()


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
