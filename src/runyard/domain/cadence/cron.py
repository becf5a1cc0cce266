"""The cron validator: a CUSTOM cadence's 5-field expression, parsed and checked.

Five fields (minute hour day-of-month month day-of-week) with `*`, numbers, names (JAN-DEC,
SUN-SAT; 7 is Sunday too), ranges `a-b`, steps `*/n`, `a-b/n` and `a/n` (from a to the end of
the field), lists, and the shorthands @hourly @daily @midnight @weekly @monthly @yearly
@annually. Seconds fields, `L`, `W`, `#`, `?` and `H` are refused. When both day-of-month
and day-of-week are written as anything other than a bare `*`, a day matches if it matches
either field (POSIX cron); otherwise it must match both. Vixie cron instead requires both
whenever either field starts with `*`, so `0 0 */2 * MON` is odd days or Mondays here but
odd-day Mondays there.

The values are parsed here, not by croniter; croniter is only handed the canonical form
(`CronSpec.canonical`) to find wall times by field arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache

from croniter import CroniterError, croniter

from runyard.domain.cadence.english import MONTH_NAMES, WEEKDAY_NAMES, join_words
from runyard.errors import InvalidField

_SHORTHANDS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}

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
    _FieldRule("month", 1, 12, 12, {m[:3].upper(): i + 1 for i, m in enumerate(MONTH_NAMES)}),
    _FieldRule("day-of-week", 0, 6, 7, {d[:3].upper(): i for i, d in enumerate(WEEKDAY_NAMES)}),
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
    months = join_words([MONTH_NAMES[m - 1] for m in sorted(spec.months)])
    verb = "has" if len(spec.months) == 1 else "have"
    days = join_words([str(d) for d in sorted(spec.days)])
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
        croniter_for(spec.canonical)
    except CroniterError as exc:  # a disagreement with croniter would be our bug; say so
        raise _CronSyntaxError(f"croniter refuses it: {exc}") from exc
    return spec


@lru_cache(maxsize=4096)
def croniter_for(canonical: str) -> croniter[datetime]:
    """A parsed croniter to copy (parsing costs ~0.3 ms; a copy costs microseconds).

    Each walk works on its own shallow copy: croniter keeps its position in the instance,
    so one shared instance could not serve two threads.
    """
    return croniter(canonical, datetime(2000, 1, 1), ret_type=datetime)
