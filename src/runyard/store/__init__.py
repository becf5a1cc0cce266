"""The store: tables, queries and migrations. The only layer that speaks SQL."""

from __future__ import annotations

from runyard.store import (  # noqa: F401  (every table)
    audit,
    cells,
    collections,
    connections,
    embedded_runs,
    groups,
    identity,
    notifications,
    project_sharing,
    projects,
    runs,
    schedules,
    sql_cache,
    views,
)
from runyard.store.base import Base

metadata = Base.metadata
