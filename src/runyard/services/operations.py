"""Health, readiness and the metrics read from the store, for operators and their tools.

Answers hold names and verdicts only: no URLs, hosts, error texts or versions, since the
endpoints that serve them need no token.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from runyard.store import operations as store
from runyard.store.db import Database

log = logging.getLogger(__name__)

OK = "ok"


class SchedulerHeartbeat:
    """When this process's scheduler loop last finished a tick (monotonic clock).

    A loop that hangs (a stuck query, a deadlock) stops beating; readiness then fails, and a
    supervisor restarts the process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None  # None: no scheduler loop runs in this process

    def started(self) -> None:
        with self._lock:
            self._since = time.monotonic()

    def beat(self) -> None:
        with self._lock:
            if self._since is not None:
                self._since = time.monotonic()

    def stopped(self) -> None:
        with self._lock:
            self._since = None

    def seconds_since_beat(self) -> float | None:
        """Seconds since the last tick ended (or the loop started); None if no loop runs."""
        with self._lock:
            return None if self._since is None else time.monotonic() - self._since


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(verdict in (OK, "not used") for verdict in self.checks.values())


class HealthService:
    """What `/readyz` (and a worker's health port) reports.

    `broker_reachable` is None when runs do not travel through a broker (the local
    executor). `heartbeat` is None in processes that run no scheduler loop.
    """

    def __init__(
        self,
        db: Database,
        broker_reachable: Callable[[], bool] | None = None,
        heartbeat: SchedulerHeartbeat | None = None,
        stale_after_seconds: float = 60.0,
    ) -> None:
        self._db = db
        self._broker_reachable = broker_reachable
        self._heartbeat = heartbeat
        self._stale_after = stale_after_seconds

    def readiness(self) -> Readiness:
        checks = {"store": OK, "migrations": OK}
        try:
            with self._db.read() as session:
                store.answers(session)
                if not store.at_head(session):
                    checks["migrations"] = "not at head"
        except Exception:
            # Any failure to reach the store means not ready; the log (not the answer,
            # which needs no token) gets the reason.
            log.warning("readiness: the store does not answer", exc_info=True)
            checks = {"store": "unreachable", "migrations": "unknown"}
        checks["broker"] = self._broker()
        checks["scheduler"] = self._scheduler()
        return Readiness(checks)

    def _broker(self) -> str:
        if self._broker_reachable is None:
            return "not used"
        try:
            return OK if self._broker_reachable() else "unreachable"
        except Exception:
            log.warning("readiness: the broker does not answer", exc_info=True)
            return "unreachable"

    def _scheduler(self) -> str:
        since = None if self._heartbeat is None else self._heartbeat.seconds_since_beat()
        if since is None:
            return "not used"
        return OK if since <= self._stale_after else "stalled"


class StoreCollector(Collector):
    """Metrics read from the store at each scrape: the same in every process of a
    deployment, so dashboards take any one replica's (or `max`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def collect(self) -> Iterator[Metric]:
        runs = GaugeMetricFamily(
            "runyard_runs",
            "Runs in the store, by status and trigger (status PENDING: runs waiting).",
            labels=["status", "trigger"],
        )
        artifacts = GaugeMetricFamily(
            "runyard_artifacts_bytes",
            "Bytes used in the store by every run's artifacts (notebooks, HTML, logs).",
        )
        slots = CounterMetricFamily(
            "runyard_schedule_slots_not_fired",
            "Schedule slots that did not become runs, by kind: MISSED (past the misfire "
            "grace), SKIPPED_OVERLAP, INVALID_INPUTS.",
            labels=["kind"],
        )
        deliveries = GaugeMetricFamily(
            "runyard_notification_deliveries",
            "Notification deliveries in the store, by channel and status (SENT, PENDING, FAILED).",
            labels=["channel", "status"],
        )
        with self._db.read() as session:
            for status, trigger, count in store.runs_by_status_and_trigger(session):
                runs.add_metric([status, trigger], count)
            artifacts.add_metric([], store.artifact_bytes(session))
            for kind, count in store.slots_not_fired_by_kind(session):
                slots.add_metric([kind], count)
            for channel, status, count in store.deliveries_by_channel_and_status(session):
                deliveries.add_metric([channel, status], count)
        yield from (runs, artifacts, slots, deliveries)


class KernelCollector(Collector):
    """Idle kernels of this process's pool, read at each scrape."""

    def __init__(self, idle_count: Callable[[], int]) -> None:
        self._idle_count = idle_count

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "runyard_kernels_idle",
            "Kernels started ahead of demand in this process's pool, waiting for a run.",
            value=self._idle_count(),
        )
