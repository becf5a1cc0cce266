"""The run state machine: every legal transition lives here and nowhere else.

PENDING -> RUNNING -> COMPLETED | ERRORED | KILLED
PENDING -> UNABLE_TO_ALLOCATE_KERNEL   (no kernel slot within the allocation timeout)
PENDING -> KILLED                      (cancelled before it started)
PENDING -> ERRORED                     (could not even be prepared, e.g. version vanished)
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    ERRORED = "ERRORED"
    KILLED = "KILLED"
    UNABLE_TO_ALLOCATE_KERNEL = "UNABLE_TO_ALLOCATE_KERNEL"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES: frozenset[RunStatus] = frozenset(
    {
        RunStatus.COMPLETED,
        RunStatus.ERRORED,
        RunStatus.KILLED,
        RunStatus.UNABLE_TO_ALLOCATE_KERNEL,
    }
)

ACTIVE_STATUSES: frozenset[RunStatus] = frozenset({RunStatus.PENDING, RunStatus.RUNNING})

_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.PENDING: frozenset(
        {
            RunStatus.RUNNING,
            RunStatus.KILLED,
            RunStatus.ERRORED,
            RunStatus.UNABLE_TO_ALLOCATE_KERNEL,
        }
    ),
    RunStatus.RUNNING: frozenset({RunStatus.COMPLETED, RunStatus.ERRORED, RunStatus.KILLED}),
}


def can_transition(current: RunStatus, target: RunStatus) -> bool:
    return target in _TRANSITIONS.get(current, frozenset())


def sources_of(target: RunStatus) -> frozenset[RunStatus]:
    """The statuses from which `target` may be reached; used as the WHERE guard of a
    compare-and-set UPDATE so the database enforces the machine under concurrency."""
    return frozenset(src for src, targets in _TRANSITIONS.items() if target in targets)


class RunTrigger(StrEnum):
    """Who started a run. Values are Hex's `runTrigger` values."""

    API = "API"
    SCHEDULED = "SCHEDULED"
    APP_REFRESH = "APP_REFRESH"
