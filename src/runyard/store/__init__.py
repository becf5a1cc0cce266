"""The store: tables, queries and migrations. The only layer that speaks SQL."""

from __future__ import annotations

from runyard.store import identity, projects, runs, schedules  # noqa: F401  (every table)
from runyard.store.base import Base

metadata = Base.metadata
