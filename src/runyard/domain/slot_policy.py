"""What to do with a schedule's due slots: the catch-up and overlap policies, as pure rules.

A slot is *on time* if the scheduler reaches it within the misfire grace; older due slots
were *missed* (the scheduler was down, or the machine asleep). Missed slots follow the
schedule's catch-up policy:

- `skip`: fire none of them.
- `latest` (default): fire the most recent missed slot, unless an on-time slot fires anyway.
- `all`: fire every missed slot, oldest first, up to the catch-up limit.

Every slot that is not fired is returned with a reason, so the caller can record it: nothing
disappears silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class CatchUp(StrEnum):
    SKIP = "skip"
    LATEST = "latest"
    ALL = "all"


class Overlap(StrEnum):
    """When the previous run of the same schedule is still PENDING or RUNNING."""

    ALLOW = "allow"
    SKIP = "skip"
    CANCEL_PREVIOUS = "cancel_previous"


class SlotOutcome(StrEnum):
    """Why a slot did not become a run."""

    MISSED = "MISSED"
    SKIPPED_OVERLAP = "SKIPPED_OVERLAP"
    INVALID_INPUTS = "INVALID_INPUTS"


@dataclass(frozen=True)
class SlotPlan:
    fire: list[datetime] = field(default_factory=list)
    missed: list[tuple[datetime, str]] = field(default_factory=list)


def plan_slots(
    due: Sequence[datetime],
    now: datetime,
    policy: CatchUp,
    grace: timedelta,
    limit: int,
) -> SlotPlan:
    """Split `due` (ascending, all at or before `now`) into slots to fire and slots missed."""
    on_time = [slot for slot in due if now - slot <= grace]
    late = [slot for slot in due if now - slot > grace]
    if not late:
        return SlotPlan(fire=list(on_time))
    if policy is CatchUp.SKIP:
        reason = "The scheduler was not running at this time; catch-up policy 'skip'"
        return SlotPlan(fire=list(on_time), missed=[(slot, reason) for slot in late])
    if policy is CatchUp.LATEST:
        if on_time:
            reason = "Superseded by a later slot that fired on time; catch-up policy 'latest'"
            return SlotPlan(fire=list(on_time), missed=[(slot, reason) for slot in late])
        reason = "Superseded by the most recent missed slot; catch-up policy 'latest'"
        return SlotPlan(fire=[late[-1]], missed=[(slot, reason) for slot in late[:-1]])
    # ALL: oldest first, bounded so that a long outage cannot flood the workers.
    room = max(limit - len(on_time), 0)
    fired_late = late[-room:] if room else []
    dropped = late[: len(late) - len(fired_late)]
    reason = f"More than {limit} slots were due at once; catch-up policy 'all' is capped"
    return SlotPlan(fire=fired_late + list(on_time), missed=[(slot, reason) for slot in dropped])
