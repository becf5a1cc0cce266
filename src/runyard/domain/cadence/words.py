"""A cadence in words, for people: "Every day at 09:30 (America/New_York)"."""

from __future__ import annotations

import re

from runyard.domain.cadence.cron import CronSpec
from runyard.domain.cadence.english import MONTH_NAMES, WEEKDAY_NAMES, join_words
from runyard.domain.cadence.shape import Cadence, CadenceKind, required_field, weekday_of


def describe(c: Cadence) -> str:
    """A sentence for people: "Every day at 09:30 (America/New_York)". For CUSTOM, the
    expression followed by a plain reading of its common forms; unusual forms get the
    expression alone."""
    zone = c.timezone
    if c.kind is CadenceKind.CUSTOM:
        head = f"Cron {c.cron!r} ({zone})"
        reading = _describe_cron(c.cron_spec)
        return head if reading is None else f"{head}: {reading}"
    minute = required_field(c.minute)
    if c.kind is CadenceKind.HOURLY:
        return f"Every hour at minute {minute} ({zone})"
    time = f"{required_field(c.hour):02d}:{minute:02d}"
    if c.kind is CadenceKind.DAILY:
        return f"Every day at {time} ({zone})"
    if c.kind is CadenceKind.WEEKLY:
        return f"Every {weekday_of(c).title()} at {time} ({zone})"
    return f"On day {required_field(c.day)} of every month at {time} ({zone})"


def _runs(values: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted `values`: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and runs[-1][1] == value - 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _cycle(values: list[int], low: int, high: int) -> tuple[int, int] | None:
    """(start, step) if sorted `values` are every step-th value from start to the end of
    the field, with start inside the first step (what `*/15` or `5/15` give)."""
    if len(values) < 2:
        return None
    start, step = values[0], values[1] - values[0]
    if step > 1 and start - low < step and values == list(range(start, high + 1, step)):
        return start, step
    return None


# Ranges in descriptions ("09:00 to 17:59") are written with an en dash, U+2013.
_DASH = "\u2013"

_CLOCK_TIMES = re.compile(r"at \d\d:\d\d")

# Above this many pieces, a list stops being a description and the expression says more.
_MAX_PIECES = 6


def _describe_cron(spec: CronSpec) -> str | None:
    """Read the common cron forms aloud; None when the form is too unusual to read well."""
    time = _describe_time(sorted(spec.minutes), sorted(spec.hours))
    days = _describe_days(spec)
    months = sorted(spec.months)
    if time is None or days is None:
        return None
    if not days and len(months) == 12 and _CLOCK_TIMES.match(time):
        return f"every day {time}"  # "at 09:00" alone would not say how often
    pieces = [time] + ([days] if days else [])
    if len(months) < 12:
        runs = _runs(months)
        if len(runs) == 1 and len(months) >= 3:
            first, last = runs[0]
            pieces.append(f"from {MONTH_NAMES[first - 1]} to {MONTH_NAMES[last - 1]}")
        elif len(months) <= _MAX_PIECES:
            pieces.append(f"in {join_words([MONTH_NAMES[m - 1] for m in months])}")
        else:
            return None
    return ", ".join(pieces)


def _describe_time(minutes: list[int], hours: list[int]) -> str | None:
    all_hours = len(hours) == 24
    if len(minutes) * len(hours) <= _MAX_PIECES and not all_hours:
        times = [f"{h:02d}:{m:02d}" for h in hours for m in minutes]
        return f"at {join_words(times)}"
    if len(minutes) == 1:
        minute = minutes[0]
        if all_hours:
            return f"every hour at minute {minute}"
        cycle = _cycle(hours, 0, 23)
        if cycle is not None:
            return f"every {cycle[1]} hours from {cycle[0]:02d}:{minute:02d}"
        runs = _runs(hours)
        if len(runs) == 1:
            return f"every hour from {runs[0][0]:02d}:{minute:02d} to {runs[0][1]:02d}:{minute:02d}"
        return None
    if len(minutes) == 60:
        lead = "every minute"
    elif (cycle := _cycle(minutes, 0, 59)) is not None:
        lead = f"every {cycle[1]} minutes" + (f" from minute {cycle[0]}" if cycle[0] else "")
    elif len(_runs(minutes)) <= _MAX_PIECES:
        lead = "at minutes " + join_words(
            [str(a) if a == b else f"{a}{_DASH}{b}" for a, b in _runs(minutes)]
        )
    else:
        return None
    if all_hours:
        return lead
    hour_runs = _runs(hours)
    if len(hour_runs) > _MAX_PIECES // 2:
        return None
    return f"{lead}, {join_words([f'{a:02d}:00{_DASH}{b:02d}:59' for a, b in hour_runs])}"


def _describe_days(spec: CronSpec) -> str | None:
    """The day part: "" for every day, None when it is too unusual to read well."""
    day_limited = spec.fields[2] != "*" and len(spec.days) < 31
    weekday_limited = spec.fields[4] != "*" and len(spec.weekdays) < 7
    if spec.day_or and not (day_limited and weekday_limited):
        return ""  # either field matching is enough, and one of them matches every day
    phrases: list[str] = []
    if day_limited:
        days = sorted(spec.days)
        cycle = _cycle(days, 1, 31)
        runs = _runs(days)
        if cycle is not None and len(days) > 2:
            phrases.append(f"every {cycle[1]} days of the month from day {cycle[0]}")
        elif len(runs) <= _MAX_PIECES:
            label = "day" if len(days) == 1 else "days"
            listed = join_words([str(a) if a == b else f"{a}{_DASH}{b}" for a, b in runs])
            phrases.append(f"on {label} {listed} of the month")
        else:
            return None
    if weekday_limited:
        # Read weeks from Monday, so that Saturday and Sunday sit together at the end.
        iso = sorted((d - 1) % 7 for d in spec.weekdays)
        names = [WEEKDAY_NAMES[(d + 1) % 7] for d in iso]
        runs = _runs(iso)
        if len(runs) == 1 and len(iso) >= 3:
            phrase = f"{names[0]} to {names[-1]}"
        else:
            phrase = f"on {join_words(names)}"
        if phrases:
            phrase = phrase if phrase.startswith("on ") else f"on {phrase}"
        phrases.append(phrase)
    return " or ".join(phrases)
