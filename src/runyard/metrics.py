"""Prometheus metrics that processes record as things happen (docs/operations.md lists them).

The objects live in this leaf module so that every layer records into the same ones without
importing another layer. They are per process: `runyard serve`, each `runyard worker` and each
`runyard scheduler` count what they did themselves. Figures that are the same whatever the
process (runs by status, disk used by artifacts, skipped slots, notification deliveries) are
read from the store when scraped instead (`runyard.services.operations.StoreCollector`).

Several processes behind one port (an ASGI server started with several workers) share their
figures the way prometheus_client does it: set `PROMETHEUS_MULTIPROC_DIR` to an empty folder
before they start, and `exposition()` adds up the files they write there.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

# Runs last from seconds to hours; waits and kernel starts from milliseconds to minutes.
_LONG = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400)
_SHORT = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

RUN_DURATION = Histogram(
    "runyard_run_duration_seconds",
    "Time from a run's start on a kernel to its end, by final status.",
    ["status"],
    buckets=_LONG,
)
RUN_QUEUE_WAIT = Histogram(
    "runyard_run_queue_wait_seconds",
    "Time a run waited between its trigger and its claim by a worker.",
    buckets=_SHORT,
)
KERNEL_START = Histogram(
    "runyard_kernel_start_seconds",
    "Time from a run's claim until its kernel was ready (from the pool or started anew).",
    buckets=_SHORT,
)
KERNELS_BUSY = Gauge(
    "runyard_kernels_busy",
    "Runs this process is executing now, one kernel each.",
    multiprocess_mode="livesum",
)
SCHEDULE_LATENESS = Histogram(
    "runyard_schedule_lateness_seconds",
    "How long after its slot's time a scheduled run was created.",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600),
)
SCHEDULER_TICK = Histogram(
    "runyard_scheduler_tick_seconds",
    "Duration of one scheduler tick (firing due slots and the upkeep of runs).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
LEASES_LOST = Counter(
    "runyard_run_leases_lost_total",
    "Runs this process's upkeep ended ERRORED because their worker stopped renewing its lease.",
)
RUNS_RETENTION_PRUNED = Counter(
    "runyard_runs_pruned_total",
    "Runs, with their artifacts, deleted by the retention policy.",
)
NOTIFICATION_ATTEMPTS = Counter(
    "runyard_notification_attempts_total",
    "Notification sends this process attempted, by outcome: sent, retried (failed, will be "
    "tried again) or failed (given up).",
    ["outcome"],
)
HTTP_REQUESTS = Counter(
    "runyard_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "runyard_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def multiprocess_dir() -> str | None:
    """The folder prometheus_client's multi-process mode writes to, if it is on."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition(*extra: CollectorRegistry) -> bytes:
    """This process's metrics (or, in multi-process mode, those of every process sharing the
    folder), followed by those of `extra` registries, in Prometheus' text format."""
    if multiprocess_dir() is None:
        text = generate_latest(REGISTRY)
    else:
        combined = CollectorRegistry()
        MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        text = generate_latest(combined)
    return text + b"".join(generate_latest(registry) for registry in extra)


CONTENT_TYPE = CONTENT_TYPE_LATEST
