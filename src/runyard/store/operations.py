"""Queries for health checks and metrics: is the store there, at which revision, how full."""

from __future__ import annotations

import functools

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from runyard.store.db import MIGRATIONS_DIR, alembic_config
from runyard.store.notifications import NotificationDeliveryRow
from runyard.store.runs import RunArtifactRow, RunRow
from runyard.store.schedules import SkippedSlotRow


def answers(session: Session) -> None:
    """Raise if the store does not answer a trivial query."""
    session.execute(text("SELECT 1"))


@functools.cache
def _heads() -> frozenset[str]:
    # The scripts do not change while the process runs; reading them once is enough.
    script = ScriptDirectory.from_config(alembic_config(f"sqlite:///{MIGRATIONS_DIR}"))
    return frozenset(script.get_heads())


def at_head(session: Session) -> bool:
    """Whether the store's schema is at this code's head revision."""
    context = MigrationContext.configure(session.connection())
    return frozenset(context.get_current_heads()) == _heads()


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
