"""When a schedule fires: cadences, cron, time zones and DST, as pure functions.

A cadence is Hex's schedule shape (HOURLY, DAILY, WEEKLY, MONTHLY or a CUSTOM cron) plus a
time zone. This module turns it into fire instants and nothing else: no I/O and no clock,
callers pass the instant to start from. Every instant it returns is an aware UTC datetime.

How the next fire is found
--------------------------
1. List the cadence's *wall times*: naive local date-times that match it, in order, by plain
   arithmetic for the fixed kinds and by croniter on naive datetimes for CUSTOM. croniter
   never sees a time zone: its own DST handling has had bugs, and the rules below are ours.
2. Resolve each wall time to the instant(s) at which it fires, with zoneinfo, by the rules
   below.
3. The next fire after `t` is the earliest instant later than `t`. Wall times that resolve to
   the same instant fire once, so fire instants are strictly increasing and never repeat.
   The walk starts at `t`'s own wall time (backed off over a repeated hour where needed)
   and usually resolves one or two wall times; nothing scans minute by minute (croniter
   finds CUSTOM's next wall time by field arithmetic).

The DST rules
-------------
* A wall time the clock shows once fires at that instant.
* A wall time the clock skips (a spring-forward gap) fires once, at the first instant after
  the gap, which is the transition itself: DAILY 02:30 in America/New_York on 2025-03-09
  fires at 03:00 EDT (07:00Z). Every wall time in one gap resolves to that same instant, and
  so does the wall time at the end of the gap (03:00 here): `*/10 2 * * *` fires once
  there, and `0 2,3 * * *` fires once there for both of its wall times, never twice.
* A wall time the clock shows twice (a fall-back overlap) fires once, at its first
  occurrence (fold=0), for DAILY, WEEKLY, MONTHLY and CUSTOM. CUSTOM follows this rule even
  when it looks hourly: `30 * * * *` on New York's fall-back day fires at 01:30 EDT only.
* HOURLY {minute M} fires at every instant at which the local wall clock shows minute M
  (seconds 0), in every hour, both occurrences of a repeated hour included. In addition,
  where a spring-forward gap swallows a wall time with minute M, the first instant after the
  gap fires in its place if and only if the last instant before the gap showing minute M
  and the first instant at or after the gap end showing minute M are more than an hour
  apart; otherwise no elapsed hour goes without a fire, and the stand-in would be a second
  fire in one hour. Consequences:
  - Where the clock shifts by whole hours (New York, Berlin, Sydney), fires are exactly one
    hour apart through both transitions: 01:30 EDT and 01:30 EST both fire on New York's
    fall-back day; on its spring-forward day 02:30 is skipped, 01:30 EST and 03:30 EDT are
    one hour apart, and nothing stands in for 02:30.
  - Australia/Lord_Howe shifts by 30 minutes at 02:00 (+10:30 <-> +11:00). Across its
    spring gap (02:00-02:29 skipped) fires are 30 to 60 minutes apart: minute 15 fires at
    01:15 +10:30, at the gap end 02:30 +11:00 (for 02:15), then 03:15 +11:00; minute 45 is
    never swallowed and fires at 01:45 +10:30 then 02:45 +11:00, 30 minutes later. Across
    its fall-back overlap (01:30-01:59 twice) fires are 30 or 90 minutes apart: minute 45
    fires at 01:45 +11:00 and 01:45 +10:30; minute 15 fires at 01:15 +11:00 and next at
    02:15 +10:30, because the clock shows :15 nowhere in between.
  - Zones without DST (Asia/Kolkata, +05:30) fire every hour, at :30 past in UTC for M = 0.
* Fixed offsets (`+08:00`, `Z`) have no DST: every wall time exists exactly once.

Cron
----
Five fields (minute hour day-of-month month day-of-week) with `*`, numbers, names (JAN-DEC,
SUN-SAT; 7 is Sunday too), ranges `a-b`, steps `*/n`, `a-b/n` and `a/n` (from a to the end of
the field), lists, and the shorthands @hourly @daily @midnight @weekly @monthly @yearly
@annually. Seconds fields, `L`, `W`, `#`, `?` and `H` are refused. When both day-of-month
and day-of-week are written as anything other than a bare `*`, a day matches if it matches
either field (POSIX cron); otherwise it must match both. Vixie cron instead requires both
whenever either field starts with `*`, so `0 0 */2 * MON` is odd days or Mondays here but
odd-day Mondays there.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterError, croniter

from runyard.errors import InvalidField


class CadenceKind(StrEnum):
    HOURLY = "HOURLY"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    CUSTOM = "CUSTOM"


class DayOfWeek(StrEnum):
    """Hex's `dayOfWeek` values, in cron order (Sunday is 0)."""

    SUNDAY = "SUNDAY"
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"

    @property
    def cron_number(self) -> int:
        """0 for Sunday through 6 for Saturday."""
        return list(DayOfWeek).index(self)

    @property
    def python_weekday(self) -> int:
        """0 for Monday through 6 for Sunday, as `datetime.weekday()` counts."""
        return (self.cron_number + 6) % 7


_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_MINUTE = timedelta(minutes=1)
_SECOND = timedelta(seconds=1)

# Wall times that resolve to instants at or before the starting point are skipped. Only the
# wall times of a fall-back overlap (and, for HOURLY, those of a gap that fire nothing) are
# skipped this way: 60 for an every-minute cron in a one-hour overlap. The bound turns a bug
# or a pathological zone into an error instead of a hang.
_MAX_STEPS = 10_000

# The largest offset any place uses is +14:00 (Kiribati); -12:00 is the smallest, and we
# accept the symmetric range.
_MAX_OFFSET = timedelta(hours=14)

_OFFSET_RE = re.compile(r"([+-])(\d{2})(?::?(\d{2}))?", re.ASCII)

_HEX_FIELD = {
    "minute": "minute",
    "hour": "hour",
    "day_of_week": "dayOfWeek",
    "day": "day",
    "cron": "cron",
}

_REQUIRED: dict[CadenceKind, tuple[str, ...]] = {
    CadenceKind.HOURLY: ("minute",),
    CadenceKind.DAILY: ("hour", "minute"),
    CadenceKind.WEEKLY: ("day_of_week", "hour", "minute"),
    CadenceKind.MONTHLY: ("day", "hour", "minute"),
    CadenceKind.CUSTOM: ("cron",),
}

_BOUNDS = {"minute": (0, 59), "hour": (0, 23), "day": (1, 28)}


# --- time zones ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _known_zones() -> dict[str, str]:
    """IANA zone names, keyed by their lower-case spelling (to suggest the right case).

    `localtime` is left out although zoneinfo can open it: it is whatever the machine is set
    to, so a schedule in it would fire at different instants on different machines.
    """
    return {name.lower(): name for name in available_timezones() if name != "localtime"}


def parse_timezone(name: str) -> tzinfo:
    """Return the zone a schedule's `timezone` names.

    An IANA name gives a `ZoneInfo`; `Z`, `UTC` and ISO-8601 offsets (`+08:00`, `-0330`,
    `+05`) give a fixed `datetime.timezone`. Anything else raises `InvalidField("timezone")`.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidField(field_name="timezone", reason="must be a time zone name or offset")
    return _parse_timezone(name)


@lru_cache(maxsize=1024)
def _parse_timezone(name: str) -> tzinfo:
    if name in ("Z", "UTC"):
        return UTC
    match = _OFFSET_RE.fullmatch(name)
    if match is not None:
        sign, hours, minutes = match[1], int(match[2]), int(match[3] or 0)
        offset = timedelta(hours=hours, minutes=minutes)
        if minutes >= 60 or offset > _MAX_OFFSET:
            raise InvalidField(
                field_name="timezone",
                reason=f"offset {name!r} is out of range (-14:00 to +14:00)",
            )
        if offset == timedelta(0):
            return UTC
        return timezone(-offset if sign == "-" else offset)
    known = _known_zones()
    if name not in known.values():
        hint = " (an IANA name such as 'Europe/Berlin', or an offset such as '+08:00')"
        if name.lower() in known:
            hint = f" (did you mean {known[name.lower()]!r}?)"
        raise InvalidField(field_name="timezone", reason=f"unknown time zone {name!r}{hint}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        # Listed but unreadable: a broken tzdata install, not the user's mistake; still a
        # zone we cannot schedule in, and the reason says which.
        raise InvalidField(
            field_name="timezone", reason=f"time zone {name!r} cannot be loaded: {exc}"
        ) from exc


# --- cron ----------------------------------------------------------------------------------

_SHORTHANDS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}

_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
# The most days each month can have; February counts its leap day, so `0 0 29 2 *` is valid
# (it fires in leap years).
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_ITEM_RE = re.compile(
    r"(?P<start>\*|[0-9]+|[A-Za-z]+)(?:-(?P<end>[0-9]+|[A-Za-z]+))?(?:/(?P<step>[0-9]+))?"
)


@dataclass(frozen=True)
class _FieldRule:
    name: str
    low: int
    high: int  # where `*` and `a/n` end
    top: int  # the largest value that may be written (7 for Sunday in day-of-week)
    names: dict[str, int]


_FIELD_RULES = (
    _FieldRule("minute", 0, 59, 59, {}),
    _FieldRule("hour", 0, 23, 23, {}),
    _FieldRule("day-of-month", 1, 31, 31, {}),
    _FieldRule("month", 1, 12, 12, {m[:3].upper(): i + 1 for i, m in enumerate(_MONTH_NAMES)}),
    _FieldRule("day-of-week", 0, 6, 7, {d[:3].upper(): i for i, d in enumerate(_WEEKDAY_NAMES)}),
)


class _CronSyntaxError(Exception):
    """A reason, without the expression, for `parse_cron` to wrap in InvalidField."""


@dataclass(frozen=True)
class CronSpec:
    """A parsed 5-field cron expression: the values each field allows.

    `fields` holds the five fields as written (shorthands expanded). Weekdays count Sunday
    as 0 (a written 7 is stored as 0).
    """

    expression: str
    fields: tuple[str, str, str, str, str]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]

    @property
    def day_or(self) -> bool:
        """True when a day matches if day-of-month OR day-of-week matches (both written as
        something other than a bare `*`); False when it must match both."""
        return self.fields[2] != "*" and self.fields[4] != "*"

    def matches(self, wall: datetime) -> bool:
        """Whether the naive wall time `wall` (seconds ignored) is one the expression names."""
        if wall.minute not in self.minutes or wall.hour not in self.hours:
            return False
        if wall.month not in self.months:
            return False
        day_ok = wall.day in self.days
        weekday_ok = (wall.weekday() + 1) % 7 in self.weekdays
        return (day_ok or weekday_ok) if self.day_or else (day_ok and weekday_ok)

    @cached_property
    def canonical(self) -> str:
        """The expression with every restricted field spelled as an explicit list.

        croniter is fed this form, never the user's text, so that croniter's own readings
        of unusual syntax (it reads the equal range `5-5` as the whole field, for one) never
        disagree with the values parsed here. A bare `*` stays `*`: croniter then applies
        the day-of-month/day-of-week OR rule exactly when `day_or` is true.
        """
        parts = []
        for text, values in zip(
            self.fields,
            (self.minutes, self.hours, self.days, self.months, self.weekdays),
            strict=True,
        ):
            parts.append("*" if text == "*" else ",".join(str(v) for v in sorted(values)))
        return " ".join(parts)


def _field_value(rule: _FieldRule, token: str) -> int:
    if token.isdigit():
        value = int(token)
        if not rule.low <= value <= rule.top:
            raise _CronSyntaxError(
                f"{rule.name} value {value} is out of range {rule.low}-{rule.top}"
            )
        return value
    if token.upper() in rule.names:
        return rule.names[token.upper()]
    if rule.names:
        first, *_, last = rule.names
        raise _CronSyntaxError(
            f"{rule.name} field has unknown name {token!r} (use {first}-{last} or numbers)"
        )
    raise _CronSyntaxError(f"{rule.name} field has {token!r} where a number belongs")


def _parse_field(rule: _FieldRule, text: str) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        match = _ITEM_RE.fullmatch(item)
        if match is None:
            raise _CronSyntaxError(
                f"{rule.name} field {text!r}: {item!r} is not a number, name, range, step or"
                " list (L, W, #, ? and H are not supported)"
            )
        start, end, step_text = match["start"], match["end"], match["step"]
        step = 1 if step_text is None else int(step_text)
        if step < 1:
            raise _CronSyntaxError(f"{rule.name} field {text!r}: a step must be at least 1")
        if start == "*":
            if end is not None:
                raise _CronSyntaxError(f"{rule.name} field {text!r}: '*' cannot start a range")
            low, high = rule.low, rule.high
        else:
            low = _field_value(rule, start)
            if end is not None:
                high = _field_value(rule, end)
                if high < low:
                    raise _CronSyntaxError(
                        f"{rule.name} field {text!r}: range {start}-{end} runs backwards"
                    )
            elif step_text is not None:
                high = max(low, rule.high)  # `a/n`: from a to the end of the field
            else:
                high = low
        values.update(range(low, high + 1, step))
    if rule.top == 7 and 7 in values:  # day-of-week: 7 is another name for Sunday
        values.discard(7)
        values.add(0)
    return frozenset(values)


def _never_fires_reason(spec: CronSpec) -> str | None:
    """Why no date ever matches, or None. Only one shape can fail: days of the month that
    none of the months has, with the day of the week unrestricted (under the OR rule the
    weekday alone always matches some day)."""
    if spec.day_or or spec.fields[2] == "*":
        return None
    first_day = min(spec.days)
    if any(first_day <= _MONTH_DAYS[m - 1] for m in spec.months):
        return None
    months = _join([_MONTH_NAMES[m - 1] for m in sorted(spec.months)])
    verb = "has" if len(spec.months) == 1 else "have"
    days = _join([str(d) for d in sorted(spec.days)])
    return f"{months} {verb} no day {days}"


def parse_cron(expression: str) -> CronSpec:
    """Parse a standard 5-field cron expression (see the module docstring for the syntax).

    Raises `InvalidField("custom.cron")` naming the problem: syntax, values out of range,
    a seconds field, or a day that never occurs.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise InvalidField(field_name="custom.cron", reason="must be a cron expression")
    try:
        return _parse_cron(expression)
    except _CronSyntaxError as exc:
        raise InvalidField(
            field_name="custom.cron", reason=f"cron {expression!r} is invalid: {exc}"
        ) from None


@lru_cache(maxsize=4096)
def _parse_cron(expression: str) -> CronSpec:
    text = expression.strip()
    if text.startswith("@"):
        if text.lower() not in _SHORTHANDS:
            raise _CronSyntaxError(
                f"unknown shorthand {text!r} (use one of {', '.join(_SHORTHANDS)})"
            )
        text = _SHORTHANDS[text.lower()]
    parts = text.split()
    if len(parts) == 6:
        raise _CronSyntaxError(
            "it has 6 fields; a seconds field would fire more often than once a minute, which"
            " schedules do not do (use the 5 fields: minute hour day-of-month month"
            " day-of-week)"
        )
    if len(parts) != 5:
        raise _CronSyntaxError(
            f"it has {len(parts)} fields; use the 5 fields: minute hour day-of-month month"
            " day-of-week"
        )
    sets = [_parse_field(rule, part) for rule, part in zip(_FIELD_RULES, parts, strict=True)]
    spec = CronSpec(
        expression=expression,
        fields=(parts[0], parts[1], parts[2], parts[3], parts[4]),
        minutes=sets[0],
        hours=sets[1],
        days=sets[2],
        months=sets[3],
        weekdays=sets[4],
    )
    reason = _never_fires_reason(spec)
    if reason is not None:
        raise _CronSyntaxError(f"it can never fire: {reason}")
    try:
        _croniter_for(spec.canonical)
    except CroniterError as exc:  # a disagreement with croniter would be our bug; say so
        raise _CronSyntaxError(f"croniter refuses it: {exc}") from exc
    return spec


@lru_cache(maxsize=4096)
def _croniter_for(canonical: str) -> croniter[datetime]:
    """A parsed croniter to copy (parsing costs ~0.3 ms; a copy costs microseconds).

    Each walk works on its own shallow copy: croniter keeps its position in the instance,
    so one shared instance could not serve two threads.
    """
    return croniter(canonical, datetime(2000, 1, 1), ret_type=datetime)


# --- the cadence ---------------------------------------------------------------------------


def _int_field(value: object, name: str, kind: CadenceKind) -> None:
    hex_name = f"{kind.lower()}.{_HEX_FIELD[name]}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(field_name=hex_name, reason=f"must be an integer, got {value!r}")
    low, high = _BOUNDS[name]
    if not low <= value <= high:
        raise InvalidField(field_name=hex_name, reason=f"must be between {low} and {high}")


@dataclass(frozen=True)
class Cadence:
    """How often a schedule fires, on the wall clock of `timezone`.

    Construction validates: a bad value raises `InvalidField` with Hex's dotted field name
    (`monthly.day`, `custom.cron`, `timezone`, ...). Strings are accepted for `kind` and
    `day_of_week` and stored as the enums. Only the fields of `kind` may be set:

    HOURLY: minute. DAILY: hour, minute. WEEKLY: day_of_week, hour, minute.
    MONTHLY: day (1-28, so that every month has it), hour, minute. CUSTOM: cron.

    `timezone` is kept as given (an IANA name or a fixed offset, see `parse_timezone`).
    """

    kind: CadenceKind
    timezone: str
    minute: int | None = None
    hour: int | None = None
    day_of_week: DayOfWeek | None = None
    day: int | None = None
    cron: str | None = None

    def __post_init__(self) -> None:
        try:
            kind = CadenceKind(self.kind)
        except ValueError:
            raise InvalidField(
                field_name="cadence",
                reason=f"must be one of {', '.join(CadenceKind)}, got {self.kind!r}",
            ) from None
        object.__setattr__(self, "kind", kind)
        prefix = kind.lower()
        required = _REQUIRED[kind]
        for name in _HEX_FIELD:
            value = getattr(self, name)
            if name not in required and value is not None:
                raise InvalidField(
                    field_name=f"{prefix}.{_HEX_FIELD[name]}",
                    reason=f"does not apply to {kind} cadences",
                )
            if name in required and value is None:
                raise InvalidField(
                    field_name=f"{prefix}.{_HEX_FIELD[name]}",
                    reason=f"is required for {kind} cadences",
                )
        for name in ("minute", "hour", "day"):
            if name in required:
                _int_field(getattr(self, name), name, kind)
        if self.day_of_week is not None:
            try:
                object.__setattr__(self, "day_of_week", DayOfWeek(self.day_of_week))
            except ValueError:
                raise InvalidField(
                    field_name=f"{prefix}.dayOfWeek",
                    reason=f"must be one of {', '.join(DayOfWeek)}, got {self.day_of_week!r}",
                ) from None
        if self.cron is not None:
            parse_cron(self.cron)
        parse_timezone(self.timezone)

    @property
    def zone(self) -> tzinfo:
        """The parsed `timezone`."""
        return parse_timezone(self.timezone)

    @property
    def cron_spec(self) -> CronSpec:
        """The parsed cron of a CUSTOM cadence, or of the equivalent of a fixed one."""
        return parse_cron(self.cron if self.cron is not None else to_cron(self))


# --- wall times ----------------------------------------------------------------------------


def _required(value: int | None) -> int:
    # Validation guarantees the fields of the cadence's kind; this only narrows the type.
    if value is None:
        raise AssertionError("a validated Cadence lacks a field of its kind")
    return value


def _weekday(c: Cadence) -> DayOfWeek:
    if c.day_of_week is None:
        raise AssertionError("a validated WEEKLY Cadence lacks day_of_week")
    return c.day_of_week


def _walls_after(c: Cadence, start: datetime) -> Iterator[datetime]:
    """Yield the cadence's naive wall times strictly after naive `start`, ascending.

    This is arithmetic on the wall clock alone: naive datetimes have no DST, so adding a day
    to 09:30 gives 09:30 the next day whatever the zone does in between.
    """
    kind = c.kind
    if kind is CadenceKind.CUSTOM:
        walk = copy.copy(_croniter_for(c.cron_spec.canonical))
        wall = start
        while True:
            wall = walk.get_next(datetime, start_time=wall)
            yield wall
    minute = _required(c.minute)
    if kind is CadenceKind.HOURLY:
        wall = start.replace(minute=minute, second=0, microsecond=0)
        step = _HOUR
    else:
        wall = start.replace(hour=_required(c.hour), minute=minute, second=0, microsecond=0)
        step = _DAY
        if kind is CadenceKind.WEEKLY:
            target = _weekday(c).python_weekday
            wall += timedelta(days=(target - wall.weekday()) % 7)
            step = _WEEK
        elif kind is CadenceKind.MONTHLY:
            wall = wall.replace(day=_required(c.day))
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


def _walls_at_or_before(c: Cadence, start: datetime) -> Iterator[datetime]:
    """Yield the cadence's naive wall times at or before naive `start`, descending."""
    kind = c.kind
    if kind is CadenceKind.CUSTOM:
        walk = copy.copy(_croniter_for(c.cron_spec.canonical))
        # croniter's get_prev is strictly before its start, and works in whole minutes.
        wall = start.replace(second=0, microsecond=0) + _MINUTE
        while True:
            wall = walk.get_prev(datetime, start_time=wall)
            yield wall
    minute = _required(c.minute)
    if kind is CadenceKind.HOURLY:
        wall = start.replace(minute=minute, second=0, microsecond=0)
        step = _HOUR
    else:
        wall = start.replace(hour=_required(c.hour), minute=minute, second=0, microsecond=0)
        step = _DAY
        if kind is CadenceKind.WEEKLY:
            target = _weekday(c).python_weekday
            wall -= timedelta(days=(wall.weekday() - target) % 7)
            step = _WEEK
        elif kind is CadenceKind.MONTHLY:
            wall = wall.replace(day=_required(c.day))
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


# --- resolving wall times to instants -------------------------------------------------------


def _offset(moment: datetime) -> timedelta:
    offset = moment.utcoffset()
    if offset is None:  # every tzinfo this module builds answers; a naive value is a bug
        raise AssertionError("no UTC offset")
    return offset


def _instants(c: Cadence, zone: tzinfo, wall: datetime) -> tuple[datetime, ...]:
    """The instants (aware UTC, ascending) at which the cadence fires for wall time `wall`.

    1. Read `wall` with both of zoneinfo's folds. Equal offsets: the clock shows `wall`
       once, and it fires then.
    2. fold=0 earlier than fold=1: a fall-back overlap shows `wall` twice. HOURLY fires at
       both; every other kind at the first only.
    3. fold=0 later than fold=1: a spring-forward gap skips `wall` (zoneinfo reads a gap
       time with the offset from before the transition for fold=0, after it for fold=1).
       It fires at the gap end, except that HOURLY fires there only when
       `_hourly_gap_fires` says an hour would otherwise pass without a fire.
    """
    if isinstance(zone, timezone):  # a fixed offset: every wall time exists exactly once
        return ((wall - _offset(wall.replace(tzinfo=zone))).replace(tzinfo=UTC),)
    first = wall - _offset(wall.replace(tzinfo=zone))
    second = wall - _offset(wall.replace(tzinfo=zone, fold=1))
    if first == second:
        return (first.replace(tzinfo=UTC),)
    if first < second:
        if c.kind is CadenceKind.HOURLY:
            return (first.replace(tzinfo=UTC), second.replace(tzinfo=UTC))
        return (first.replace(tzinfo=UTC),)
    end = _gap_end(zone, second.replace(tzinfo=UTC), first.replace(tzinfo=UTC))
    if c.kind is CadenceKind.HOURLY and not _hourly_gap_fires(zone, _required(c.minute), end):
        return ()
    return (end,)


@lru_cache(maxsize=1024)
def _gap_end(zone: tzinfo, low: datetime, high: datetime) -> datetime:
    """The transition instant that opens a gap: the first instant in (low, high] whose
    offset is that of `high`. `low` lies before the transition and `high` at or after it
    (step 3 of `_instants` makes sure), and tzdata transitions fall on whole seconds, so a
    binary search to the second finds it in about 12 steps for a one-hour gap."""
    target = _offset(high.astimezone(zone))
    while high - low > _SECOND:
        middle = low + timedelta(seconds=(high - low) // _SECOND // 2)
        if _offset(middle.astimezone(zone)) == target:
            high = middle
        else:
            low = middle
    return high


def _hourly_gap_fires(zone: tzinfo, minute: int, end: datetime) -> bool:
    """Whether HOURLY {minute} fires at `end`, the first instant after a gap that swallowed
    wall minute `minute`.

    1. On the wall clock the gap runs from G0 (`end` read with the offset before it) to G1
       (`end` read with the offset after it).
    2. The last fire before the gap is the last wall time before G0 showing `minute`, read
       with the offset before; the first fire after it is the first wall time at or after
       G1 showing `minute`, read with the offset after.
    3. Fire at `end` only if those two are more than an hour apart: with whole-hour shifts
       they are exactly an hour apart (New York: 01:30 EST, 03:30 EDT) and nothing is
       added; Lord Howe's 30-minute shift leaves 90 minutes for minutes 00-29.
    """
    before = _offset((end - _SECOND).astimezone(zone))
    after = _offset(end.astimezone(zone))
    naive_end = end.replace(tzinfo=None)
    gap_start, gap_stop = naive_end + before, naive_end + after
    last = gap_start.replace(minute=minute, second=0, microsecond=0)
    if last >= gap_start:
        last -= _HOUR
    following = gap_stop.replace(minute=minute, second=0, microsecond=0)
    if following < gap_stop:
        following += _HOUR
    return (following - after) - (last - before) > _HOUR


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")


def _overlap(zone: tzinfo, wall: datetime) -> timedelta:
    """How long the clock repeats itself around `wall` (zero unless `wall` is ambiguous)."""
    if isinstance(zone, timezone):
        return timedelta(0)
    return max(
        _offset(wall.replace(tzinfo=zone)) - _offset(wall.replace(tzinfo=zone, fold=1)),
        timedelta(0),
    )


def next_fire_after(c: Cadence, after: datetime) -> datetime:
    """The first fire instant strictly after aware `after`, as an aware UTC datetime.

    1. Read `after` on the zone's wall clock. For HOURLY, if `after` is the first occurrence
       of a repeated wall time, start the walk at the beginning of the overlap instead: the
       second occurrences of the overlap's earlier wall times are still to come.
    2. Walk the wall times after that point, resolving each (`_instants`), and keep the
       earliest instant later than `after`.
    3. Stop at the first wall time whose earliest instant is no earlier than the best found:
       a later wall time never resolves earlier than an earlier one's first instant.
    """
    _require_aware(after, "after")
    zone = c.zone
    local = after.astimezone(zone)
    wall = local.replace(tzinfo=None, fold=0)
    if c.kind is CadenceKind.HOURLY and local.fold == 0:
        wall -= _overlap(zone, wall)
    best: datetime | None = None
    for step, candidate in enumerate(_walls_after(c, wall)):
        instants = _instants(c, zone, candidate)
        for instant in instants:
            if instant > after and (best is None or instant < best):
                best = instant
        if best is not None and instants and instants[0] >= best:
            return best
        if step >= _MAX_STEPS:
            raise RuntimeError(f"no fire found after {after} in {_MAX_STEPS} steps for {c}")
    raise AssertionError("wall times never run out")  # pragma: no cover


def last_fire_at_or_before(c: Cadence, at: datetime) -> datetime:
    """The latest fire instant at or before aware `at`, as an aware UTC datetime (the
    slot a `latest` catch-up fires after downtime).

    The mirror of `next_fire_after`: if `at` is the second occurrence of a repeated wall
    time, the walk starts at the end of the overlap, because the first occurrences of the
    overlap's later wall times are already past; it walks wall times backwards and stops
    at the first one whose latest instant is no later than the best found.
    """
    _require_aware(at, "at")
    zone = c.zone
    local = at.astimezone(zone)
    wall = local.replace(tzinfo=None, fold=0)
    if local.fold == 1:
        wall += _overlap(zone, wall)
    best: datetime | None = None
    for step, candidate in enumerate(_walls_at_or_before(c, wall)):
        instants = _instants(c, zone, candidate)
        for instant in instants:
            if instant <= at and (best is None or instant > best):
                best = instant
        if best is not None and instants and instants[-1] <= best:
            return best
        if step >= _MAX_STEPS:
            raise RuntimeError(f"no fire found before {at} in {_MAX_STEPS} steps for {c}")
    raise AssertionError("wall times never run out")  # pragma: no cover


def upcoming(c: Cadence, after: datetime, count: int) -> list[datetime]:
    """The next `count` fire instants strictly after aware `after`, ascending, in UTC."""
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    fires: list[datetime] = []
    moment = after
    while len(fires) < count:
        moment = next_fire_after(c, moment)
        fires.append(moment)
    return fires


def fires_between(c: Cadence, start: datetime, end: datetime, limit: int) -> list[datetime]:
    """The fire instants in (start, end], ascending, at most `limit` of them (the earliest).

    Used for catch-up after downtime; `last_fire_at_or_before(c, end)` gives the latest
    one without walking the whole span.
    """
    if limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    _require_aware(end, "end")
    fires: list[datetime] = []
    moment = start
    while len(fires) < limit:
        moment = next_fire_after(c, moment)
        if moment > end:
            break
        fires.append(moment)
    return fires


# --- words ---------------------------------------------------------------------------------


def to_cron(c: Cadence) -> str:
    """The 5-field cron expression naming the same wall times.

    For CUSTOM it is the user's fields with shorthands expanded and spaces normalised. For
    HOURLY it names the same wall times, but a CUSTOM cadence with it follows the DAILY DST
    rules (one fire for a repeated hour), not HOURLY's.
    """
    if c.kind is CadenceKind.CUSTOM:
        return " ".join(c.cron_spec.fields)
    minute = _required(c.minute)
    if c.kind is CadenceKind.HOURLY:
        return f"{minute} * * * *"
    hour = _required(c.hour)
    if c.kind is CadenceKind.DAILY:
        return f"{minute} {hour} * * *"
    if c.kind is CadenceKind.WEEKLY:
        return f"{minute} {hour} * * {_weekday(c).cron_number}"
    return f"{minute} {hour} {_required(c.day)} * *"


def describe(c: Cadence) -> str:
    """A sentence for people: "Every day at 09:30 (America/New_York)". For CUSTOM, the
    expression followed by a plain reading of its common forms; unusual forms get the
    expression alone."""
    zone = c.timezone
    if c.kind is CadenceKind.CUSTOM:
        head = f"Cron {c.cron!r} ({zone})"
        reading = _describe_cron(c.cron_spec)
        return head if reading is None else f"{head}: {reading}"
    minute = _required(c.minute)
    if c.kind is CadenceKind.HOURLY:
        return f"Every hour at minute {minute} ({zone})"
    time = f"{_required(c.hour):02d}:{minute:02d}"
    if c.kind is CadenceKind.DAILY:
        return f"Every day at {time} ({zone})"
    if c.kind is CadenceKind.WEEKLY:
        return f"Every {_weekday(c).title()} at {time} ({zone})"
    return f"On day {_required(c.day)} of every month at {time} ({zone})"


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


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
            pieces.append(f"from {_MONTH_NAMES[first - 1]} to {_MONTH_NAMES[last - 1]}")
        elif len(months) <= _MAX_PIECES:
            pieces.append(f"in {_join([_MONTH_NAMES[m - 1] for m in months])}")
        else:
            return None
    return ", ".join(pieces)


def _describe_time(minutes: list[int], hours: list[int]) -> str | None:
    all_hours = len(hours) == 24
    if len(minutes) * len(hours) <= _MAX_PIECES and not all_hours:
        times = [f"{h:02d}:{m:02d}" for h in hours for m in minutes]
        return f"at {_join(times)}"
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
        lead = "at minutes " + _join(
            [str(a) if a == b else f"{a}{_DASH}{b}" for a, b in _runs(minutes)]
        )
    else:
        return None
    if all_hours:
        return lead
    hour_runs = _runs(hours)
    if len(hour_runs) > _MAX_PIECES // 2:
        return None
    return f"{lead}, {_join([f'{a:02d}:00{_DASH}{b:02d}:59' for a, b in hour_runs])}"


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
            listed = _join([str(a) if a == b else f"{a}{_DASH}{b}" for a, b in runs])
            phrases.append(f"on {label} {listed} of the month")
        else:
            return None
    if weekday_limited:
        # Read weeks from Monday, so that Saturday and Sunday sit together at the end.
        iso = sorted((d - 1) % 7 for d in spec.weekdays)
        names = [_WEEKDAY_NAMES[(d + 1) % 7] for d in iso]
        runs = _runs(iso)
        if len(runs) == 1 and len(iso) >= 3:
            phrase = f"{names[0]} to {names[-1]}"
        else:
            phrase = f"on {_join(names)}"
        if phrases:
            phrase = phrase if phrase.startswith("on ") else f"on {phrase}"
        phrases.append(phrase)
    return " or ".join(phrases)
