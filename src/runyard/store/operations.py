"""Queries for health checks and metrics: is the store there, at which revision, how full."""

from __future__ import annotations

import ast
import functools

from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from runyard.store.db import MIGRATIONS_DIR
from runyard.store.notifications import NotificationDeliveryRow
from runyard.store.runs import RunArtifactRow, RunRow
from runyard.store.schedules import SkippedSlotRow


def answers(session: Session) -> None:
    """Raise if the store does not answer a trivial query."""
    session.execute(text("SELECT 1"))


@functools.cache
def code_heads() -> frozenset[str]:
    """This code's head revisions: those no migration script names as its down_revision.

    Read from the scripts' `revision` and `down_revision` literals rather than by Alembic,
    which a server process does not import (it migrates in a child process: about 11 MB);
    a test holds this to Alembic's own answer. The scripts do not change while the process
    runs, so they are read once.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.AnnAssign | ast.Assign) or node.value is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {target.id for target in targets if isinstance(target, ast.Name)}
            if "revision" in names:
                revisions.add(ast.literal_eval(node.value))
            elif "down_revision" in names:
                down = ast.literal_eval(node.value)
                parents.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions - parents)


def at_head(session: Session) -> bool:
    """Whether the store's schema is at this code's head revision."""
    connection = session.connection()
    # A store never migrated has no version table (and on PostgreSQL a failed SELECT would
    # abort the transaction): ask first.
    if not inspect(connection).has_table("alembic_version"):
        return False
    current = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return frozenset(current) == code_heads()


def runs_by_status_and_trigger(session: Session) -> list[tuple[str, str, int]]:
    query = select(RunRow.status, RunRow.trigger, func.count()).group_by(
        RunRow.status, RunRow.trigger
    )
    return [(status, trigger, int(count)) for status, trigger, count in session.execute(query)]


def artifact_bytes(session: Session) -> int:
    """Bytes of every run's artifacts (the executed notebook, HTML pages, log) together."""
    return int(
        session.scalar(select(func.coalesce(func.sum(func.length(RunArtifactRow.content)), 0))) or 0
    )


def slots_not_fired_by_kind(session: Session) -> list[tuple[str, int]]:
    query = select(SkippedSlotRow.kind, func.count()).group_by(SkippedSlotRow.kind)
    return [(kind, int(count)) for kind, count in session.execute(query)]


def deliveries_by_channel_and_status(session: Session) -> list[tuple[str, str, int]]:
    query = select(
        NotificationDeliveryRow.channel, NotificationDeliveryRow.status, func.count()
    ).group_by(NotificationDeliveryRow.channel, NotificationDeliveryRow.status)
    return [(channel, status, int(count)) for channel, status, count in session.execute(query)]
