"""Migrating the store in a short-lived child process, before a server starts.

`runyard serve` migrates on every start, and Alembic with Mako and every dialect's DDL costs
a process 7-11 MB that it would keep for its whole life. A child process that imports them,
migrates and exits leaves the server without them. It costs a second interpreter's CPU
(SQLAlchemy and Alembic imported once more, about 1.5 s of CPU) but little wall time: the
server imports its own modules while the child works (`ChildMigration`).

The database URL reaches the child on its standard input, never on its command line, where
any user of the machine could read a password in it.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Connection

# The parent imports only what starts and waits for the child; SQLAlchemy and Alembic are
# imported by the child's side below, so that the child starts at once.

log = logging.getLogger(__name__)

# The child's exit status when it refused or failed to migrate with a message for the
# operator (on its standard error); anything else non-zero is a crash with a traceback.
_REFUSED = 3


class StoreMigrationFailed(RuntimeError):
    """Migrating the store failed; the message says why, in the operator's words."""


class ChildMigration:
    """A migration of the store at `url` running in a child process from the moment this
    is made: the server imports its own modules meanwhile (on another core, if it has one)
    and calls `finish()` before it touches the store."""

    def __init__(self, url: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdin is not None
        # A URL is far below a pipe's buffer: this never waits for the child.
        self._process.stdin.write(url)
        self._process.stdin.close()

    def finish(self) -> None:
        """Wait for the child; raise StoreMigrationFailed with its explanation if it could
        not bring the store to this code's head revision (a store newer than this code
        included)."""
        assert self._process.stderr is not None
        errors = self._process.stderr.read()
        self._process.stderr.close()
        status = self._process.wait()
        if status == _REFUSED:
            raise StoreMigrationFailed(errors.strip())
        if status != 0:
            raise StoreMigrationFailed(
                f"Migrating the store failed (exit status {status}):\n{errors.strip()}"
            )
        # Alembic's own warnings, if it had any, belong in the server's log.
        for line in errors.splitlines():
            if line.strip():
                log.warning("migration: %s", line)


def store_at_head(url: str) -> bool:
    """Whether the store at `url` is at this code's head revision already, asked without
    Alembic (a version table's row against the scripts' heads). Most starts find it so and
    need no child: its second interpreter costs about 1.5 s of CPU, which a busy machine
    feels. False also when the store cannot be reached; the child then says why."""
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from runyard.store.db import make_engine
    from runyard.store.operations import at_head

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return at_head(session)
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def upgrade_in_child(url: str) -> None:
    """Bring the store at `url` to this code's head revision in a child process and wait
    for it; raise StoreMigrationFailed as `ChildMigration.finish` does."""
    ChildMigration(url).finish()


def upgrade_checked(url: str) -> None:
    """Apply every migration to the store at `url` (what the child does). Raises
    StoreMigrationFailed if the store is at a revision that this code does not know."""
    from alembic.script import ScriptDirectory

    from runyard.store.db import alembic_config, make_engine, upgrade

    script = ScriptDirectory.from_config(alembic_config(url))
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = _current_revisions(connection)
    finally:
        engine.dispose()
    known = {revision.revision for revision in script.walk_revisions()}
    unknown = sorted(current - known)
    if unknown:
        raise StoreMigrationFailed(
            f"The store is at revision {', '.join(unknown)}, newer than this Runyard; "
            "upgrade Runyard on this machine"
        )
    upgrade(url)


def _current_revisions(connection: Connection) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    # A new store has no alembic_version table yet: no revisions, not an error.
    return set(MigrationContext.configure(connection).get_current_heads())


def main() -> int:
    from sqlalchemy.exc import DBAPIError

    url = sys.stdin.read().strip()
    try:
        upgrade_checked(url)
    except StoreMigrationFailed as error:
        print(error, file=sys.stderr)
        return _REFUSED
    except DBAPIError as error:
        # The driver's own words (unreachable, refused, read-only...), without the URL,
        # which may hold a password.
        print(f"Could not migrate the store: {error.orig}", file=sys.stderr)
        return _REFUSED
    return 0


if __name__ == "__main__":
    sys.exit(main())
