"""Retention: which runs (with their artifacts) may go, and deleting them in small batches.

A run is kept while any of these holds: it is younger than the retention period; it is
among the newest runs of its project (`keep_last_runs`); it is PENDING or RUNNING; it is its
project's published run. Everything else is deleted by the scheduler's upkeep, a batch per
pass, or by `runyard runs prune`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from runyard import metrics
from runyard.store import retention as store
from runyard.store.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionPolicy:
    # 0 keeps runs forever (whatever `keep_last_runs` says).
    days: float = 90.0
    keep_last_runs: int = 100
    batch_size: int = 100
    # Between passes that found less than a batch: the query ranks every run.
    idle_seconds: float = 300.0


@dataclass(frozen=True)
class PrunableRun:
    run_id: str
    project_id: str
    status: str
    created_at: datetime


class RetentionService:
    def __init__(
        self, db: Database, clock: Callable[[], datetime], policy: RetentionPolicy
    ) -> None:
        self._db = db
        self._clock = clock
        self._policy = policy
        self._next_pass: datetime | None = None

    @property
    def policy(self) -> RetentionPolicy:
        return self._policy

    def prunable(self, now: datetime, limit: int | None = None) -> list[PrunableRun]:
        """The runs the policy lets go at `now`, oldest first."""
        if self._policy.days <= 0:
            return []
        cutoff = now - timedelta(days=self._policy.days)
        with self._db.read() as session:
            rows = store.prunable(
                session, cutoff, self._policy.keep_last_runs, limit or self._policy.batch_size
            )
        return [PrunableRun(*row) for row in rows]

    def prune_batch(self, now: datetime) -> int:
        """Delete one batch of the runs the policy lets go; return how many went."""
        if self._policy.days <= 0:
            return 0
        cutoff = now - timedelta(days=self._policy.days)
        with self._db.write() as session:
            chosen = store.prunable(
                session, cutoff, self._policy.keep_last_runs, self._policy.batch_size
            )
            deleted = store.delete_runs(session, [row[0] for row in chosen])
        if deleted:
            metrics.RUNS_RETENTION_PRUNED.inc(deleted)
            log.info("retention: deleted %d run(s) with their artifacts", deleted)
        return deleted

    def upkeep(self, now: datetime) -> bool:
        """One batch if a pass is due; True if it was a full batch (more may be waiting)."""
        if self._next_pass is not None and now < self._next_pass:
            return False
        deleted = self.prune_batch(now)
        full = deleted >= self._policy.batch_size
        self._next_pass = None if full else now + timedelta(seconds=self._policy.idle_seconds)
        return full

    def prune_all(self, now: datetime) -> int:
        """Delete every run the policy lets go at `now`, a batch per transaction."""
        total = 0
        while deleted := self.prune_batch(now):
            total += deleted
        return total
