"""A cadence: Hex's schedule shape (HOURLY, DAILY, WEEKLY, MONTHLY or CUSTOM) in a time zone.

This module holds the value and its validation; when it fires is in `fires`, and how it
reads aloud in `words`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from enum import StrEnum

from runyard.domain.cadence.cron import CronSpec, parse_cron
from runyard.domain.cadence.zones import parse_timezone
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


def required_field(value: int | None) -> int:
    """`value`, a field of the cadence's kind, as an int; AssertionError if it is unset."""
    # Validation guarantees the fields of the cadence's kind; this only narrows the type.
    if value is None:
        raise AssertionError("a validated Cadence lacks a field of its kind")
    return value


def weekday_of(c: Cadence) -> DayOfWeek:
    """The `day_of_week` of a WEEKLY cadence; AssertionError if it is unset."""
    if c.day_of_week is None:
        raise AssertionError("a validated WEEKLY Cadence lacks day_of_week")
    return c.day_of_week


def to_cron(c: Cadence) -> str:
    """The 5-field cron expression naming the same wall times.

    For CUSTOM it is the user's fields with shorthands expanded and spaces normalised. For
    HOURLY it names the same wall times, but a CUSTOM cadence with it follows the DAILY DST
    rules (one fire for a repeated hour), not HOURLY's.
    """
    if c.kind is CadenceKind.CUSTOM:
        return " ".join(c.cron_spec.fields)
    minute = required_field(c.minute)
    if c.kind is CadenceKind.HOURLY:
        return f"{minute} * * * *"
    hour = required_field(c.hour)
    if c.kind is CadenceKind.DAILY:
        return f"{minute} {hour} * * *"
    if c.kind is CadenceKind.WEEKLY:
        return f"{minute} {hour} * * {weekday_of(c).cron_number}"
    return f"{minute} {hour} {required_field(c.day)} * *"
