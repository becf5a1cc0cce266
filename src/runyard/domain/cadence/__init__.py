"""When a schedule fires: cadences, cron, time zones and DST, as pure functions.

A cadence is Hex's schedule shape (HOURLY, DAILY, WEEKLY, MONTHLY or a CUSTOM cron) plus a
time zone. This package turns it into fire instants and words, and nothing else: no I/O and
no clock. One module per concept, each readable alone:

- `zones`: the time zone a schedule names (an IANA name or a fixed offset).
- `cron`: the cron validator; a CUSTOM cadence's expression parsed into a `CronSpec`.
- `shape`: `Cadence` itself, its validation, and the cron naming its wall times.
- `walls`: a cadence's naive wall times, in order, with no time zone in sight.
- `fires`: wall times resolved to fire instants through DST; the next and the last fire.
- `words`: a cadence described for people.
- `english`: month and weekday names and "a, b and c", shared by `cron` and `words`.

The names below are the package's public surface, importable from here as before the split.
"""

from __future__ import annotations

from runyard.domain.cadence.cron import CronSpec, parse_cron
from runyard.domain.cadence.fires import (
    fires_between,
    last_fire_at_or_before,
    next_fire_after,
    upcoming,
)
from runyard.domain.cadence.shape import Cadence, CadenceKind, DayOfWeek, to_cron
from runyard.domain.cadence.words import describe
from runyard.domain.cadence.zones import parse_timezone

__all__ = [
    "Cadence",
    "CadenceKind",
    "CronSpec",
    "DayOfWeek",
    "describe",
    "fires_between",
    "last_fire_at_or_before",
    "next_fire_after",
    "parse_cron",
    "parse_timezone",
    "to_cron",
    "upcoming",
]
