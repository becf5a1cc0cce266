"""A cadence's wall times: the naive local date-times that match it, in order.

Step 1 of finding a fire (see `fires`): plain arithmetic for the fixed kinds, croniter on
naive datetimes for CUSTOM. Nothing here knows of time zones or DST; `fires` resolves each
wall time to the instant(s) it fires at.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime, timedelta

from runyard.domain.cadence.cron import croniter_for
from runyard.domain.cadence.shape import Cadence, CadenceKind, required_field, weekday_of

_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_MINUTE = timedelta(minutes=1)


def walls_after(c: Cadence, start: datetime) -> Iterator[datetime]:
    """Yield the cadence's naive wall times strictly after naive `start`, ascending.

    This is arithmetic on the wall clock alone: naive datetimes have no DST, so adding a day
    to 09:30 gives 09:30 the next day whatever the zone does in between.
    """
    kind = c.kind
    if kind is CadenceKind.CUSTOM:
        walk = copy.copy(croniter_for(c.cron_spec.canonical))
        wall = start
        while True:
            wall = walk.get_next(datetime, start_time=wall)
            yield wall
    minute = required_field(c.minute)
    if kind is CadenceKind.HOURLY:
        wall = start.replace(minute=minute, second=0, microsecond=0)
        step = _HOUR
    else:
        wall = start.replace(hour=required_field(c.hour), minute=minute, second=0, microsecond=0)
        step = _DAY
        if kind is CadenceKind.WEEKLY:
            target = weekday_of(c).python_weekday
            wall += timedelta(days=(target - wall.weekday()) % 7)
            step = _WEEK
        elif kind is CadenceKind.MONTHLY:
            wall = wall.replace(day=required_field(c.day))
            if wall <= start:
                wall = _add_month(wall)
            while True:
                yield wall
                wall = _add_month(wall)
    if wall <= start:
        wall += step
    while True:
        yield wall
        wall += step


def walls_at_or_before(c: Cadence, start: datetime) -> Iterator[datetime]:
    """Yield the cadence's naive wall times at or before naive `start`, descending."""
    kind = c.kind
    if kind is CadenceKind.CUSTOM:
        walk = copy.copy(croniter_for(c.cron_spec.canonical))
        # croniter's get_prev is strictly before its start, and works in whole minutes.
        wall = start.replace(second=0, microsecond=0) + _MINUTE
        while True:
            wall = walk.get_prev(datetime, start_time=wall)
            yield wall
    minute = required_field(c.minute)
    if kind is CadenceKind.HOURLY:
        wall = start.replace(minute=minute, second=0, microsecond=0)
        step = _HOUR
    else:
        wall = start.replace(hour=required_field(c.hour), minute=minute, second=0, microsecond=0)
        step = _DAY
        if kind is CadenceKind.WEEKLY:
            target = weekday_of(c).python_weekday
            wall -= timedelta(days=(wall.weekday() - target) % 7)
            step = _WEEK
        elif kind is CadenceKind.MONTHLY:
            wall = wall.replace(day=required_field(c.day))
            if wall > start:
                wall = _add_month(wall, -1)
            while True:
                yield wall
                wall = _add_month(wall, -1)
    if wall > start:
        wall -= step
    while True:
        yield wall
        wall -= step


def _add_month(wall: datetime, months: int = 1) -> datetime:
    # MONTHLY days are 1-28, so the same day exists in every month.
    index = wall.year * 12 + wall.month - 1 + months
    return wall.replace(year=index // 12, month=index % 12 + 1)
