"""The scheduler: a `tick(now)` that does what is due, and a thin loop that calls it.

Each tick keeps runs moving (re-rings lost doorbells, ends runs that waited too long for a
kernel, reaps runs whose worker died). Tests call `tick()` directly with a chosen `now`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from runyard.services.runs import RunService

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, runs: RunService, clock: Callable[[], datetime]) -> None:
        self._runs = runs
        self._clock = clock

    def tick(self, now: datetime | None = None) -> bool:
        """Do everything due at `now`; True if work was found (so the loop should go again
        at once), False if it may sleep."""
        report = self._runs.upkeep(now or self._clock())
        return report.found_work

    def run_forever(self, stopping: threading.Event, idle_seconds: float) -> None:
        while not stopping.is_set():
            try:
                found = self.tick()
            except Exception:
                # The loop must outlive a failed tick (a database restart, say); the next
                # tick retries everything, since all state lives in the store.
                log.exception("scheduler tick failed")
                found = False
            if not found:
                stopping.wait(idle_seconds)
