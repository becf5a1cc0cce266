"""The scheduler: a `tick(now)` that does what is due, and a thin loop that calls it.

Each tick fires due schedule slots and keeps runs moving (re-rings lost doorbells, ends runs
that waited too long for a kernel, reaps runs whose worker died). The notifications of runs
that ended are delivered beside it, on a thread of their own, so a slow mail server or
Slack never delays a schedule. Tests call `tick()` directly with a chosen `now`. Several
schedulers may run against one database: claims are row locks and unique constraints, never
a leader.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from runyard import metrics
from runyard.services.notifications import NotificationService
from runyard.services.operations import SchedulerHeartbeat
from runyard.services.retention import RetentionService
from runyard.services.runs import RunService
from runyard.services.scheduling import SchedulingService
from runyard.services.sql_cache import SqlCacheService

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        scheduling: SchedulingService,
        runs: RunService | None,
        clock: Callable[[], datetime],
        notifications: NotificationService | None = None,
        heartbeat: SchedulerHeartbeat | None = None,
        retention: RetentionService | None = None,
        sql_cache: SqlCacheService | None = None,
    ) -> None:
        self._scheduling = scheduling
        self._runs = runs
        self._clock = clock
        self._notifications = notifications
        self._heartbeat = heartbeat if heartbeat is not None else SchedulerHeartbeat()
        self._retention = retention
        self._sql_cache = sql_cache

    def tick(self, now: datetime | None = None) -> bool:
        """Do everything due at `now`; True if work was found (so the loop should go again
        at once), False if it may sleep."""
        now = now or self._clock()
        started = time.perf_counter()
        fired = self._scheduling.fire_due(now)
        inserted = set(fired.run_ids)
        for row in fired.new_runs:
            if row["id"] in inserted:
                metrics.SCHEDULE_LATENESS.observe(row["lateness_ms"] / 1000)
        upkept = False
        if self._runs is not None:
            upkeep = self._runs.upkeep(now)
            metrics.LEASES_LOST.inc(upkeep.reaped)
            upkept = upkeep.found_work
        # Old runs go a small batch per tick, so a large backlog never holds up the slots.
        pruned = self._retention.upkeep(now) if self._retention is not None else False
        # Expired SQL results, and the oldest past the cache's size bound (a pass a minute).
        pruned_results = self._sql_cache.upkeep(now) if self._sql_cache is not None else False
        metrics.SCHEDULER_TICK.observe(time.perf_counter() - started)
        self._heartbeat.beat()
        return fired.found_work or upkept or pruned or pruned_results

    def run_forever(self, stopping: threading.Event, idle_seconds: float) -> None:
        delivery = None
        if self._notifications is not None:
            delivery = threading.Thread(
                target=_deliver_forever,
                args=(self._notifications, stopping, idle_seconds),
                name="runyard-notifications",
                daemon=True,
            )
            delivery.start()
        try:
            self._tick_until(stopping, idle_seconds)
        finally:
            # Whoever stops us disposes of the engine next: a delivery still holding a
            # connection then would leave it open in a pool that no one closes.
            if delivery is not None:
                delivery.join(timeout=30)

    def _tick_until(self, stopping: threading.Event, idle_seconds: float) -> None:
        while not stopping.is_set():
            try:
                found = self.tick()
                # Sleep until the next slot is due, but never longer than `idle_seconds`:
                # slots created or edited meanwhile by another process are seen that late.
                pause = 0.0 if found else self._pause(idle_seconds)
            except Exception:
                # The loop must outlive a failed tick (a database restart, say); the next
                # tick retries everything, since all state lives in the store.
                log.exception("scheduler tick failed")
                pause = idle_seconds
            if pause:
                stopping.wait(pause)

    def _pause(self, idle_seconds: float) -> float:
        until_next = self._scheduling.seconds_until_next(self._clock())
        if until_next is None:
            return idle_seconds
        # A hair past the slot, so the tick that wakes finds it due.
        return min(idle_seconds, until_next + 0.001)


def _deliver_forever(
    notifications: NotificationService, stopping: threading.Event, idle_seconds: float
) -> None:
    """Send due notifications until `stopping` is set; at once again while there is work."""
    while not stopping.is_set():
        try:
            found = notifications.deliver_due().found_work
        except Exception:
            # As for the scheduler's tick: the outbox is in the store, the next pass retries.
            log.exception("notification delivery failed")
            found = False
        if not found:
            stopping.wait(idle_seconds)
