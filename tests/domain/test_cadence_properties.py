"""Property tests: random cadences, zones and windows across 2024-2027, checked against an
oracle that shares no code with the module.

The module walks the cadence's wall times and resolves each to UTC. The oracle goes the
other way: it walks UTC minute by minute (only the minutes that can show a matching local
minute, since every zone here is offset by whole quarter-hours), reads each instant on the
zone's wall clock, and applies the rules as the module docstring states them:

* an instant fires if its wall time matches, and it is the first occurrence of that wall
  time (any occurrence for HOURLY);
* the first instant after a spring-forward gap fires if a wall time in the gap matches
  (for HOURLY: only if the fires on either side of the gap are more than an hour apart).

The cadences' value sets come from the strategies themselves, not from the module's
parser, so a parsing mistake shows up as a disagreement too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from runyard.domain.cadence import (
    Cadence,
    CadenceKind,
    DayOfWeek,
    fires_between,
    last_fire_at_or_before,
    next_fire_after,
    parse_cron,
    parse_timezone,
    upcoming,
)
from runyard.errors import InvalidField

ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "UTC",
    "Z",
    "+08:00",
    "-03:30",
    "+05:45",
    "+14:00",
    "-12:00",
]
FIRST = datetime(2024, 1, 1, tzinfo=UTC)
LAST = datetime(2028, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
QUARTER = timedelta(minutes=15)
HOUR = timedelta(hours=1)
# Fires compared per example; an every-minute cron over days would otherwise cost seconds.
LIMIT = 200

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def zone_of(name: str) -> tzinfo:
    # The oracle reads zones itself; parse_timezone is only trusted for fixed offsets,
    # which are checked against datetime.timezone in test_cadence.py.
    return ZoneInfo(name) if "/" in name else parse_timezone(name)


def offset(moment: datetime, zone: tzinfo) -> timedelta:
    value = moment.astimezone(zone).utcoffset()
    assert value is not None
    return value


@cache
def transitions(name: str) -> tuple[datetime, ...]:
    """Every offset change of the zone in 2024-2027, found by an hourly scan refined to the
    quarter-hour (all transitions of these zones fall on quarter-hours of UTC)."""
    if "/" not in name:
        return ()  # a fixed offset
    zone = zone_of(name)
    found = []
    moment, previous = FIRST, offset(FIRST, zone)
    while moment < LAST:
        following = moment + HOUR
        current = offset(following, zone)
        if current != previous:
            point = moment
            while offset(point, zone) == previous:
                point += QUARTER
            assert offset(point - timedelta(seconds=1), zone) == previous
            found.append(point)
        moment, previous = following, current
    return tuple(found)


# --- cadences, with their value sets ------------------------------------------------------


@dataclass(frozen=True)
class Case:
    cadence: Cadence
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    day_or: bool

    @property
    def hourly(self) -> bool:
        return self.cadence.kind is CadenceKind.HOURLY

    def matches(self, wall: datetime) -> bool:
        if wall.minute not in self.minutes or wall.hour not in self.hours:
            return False
        if wall.month not in self.months:
            return False
        day = wall.day in self.days
        weekday = (wall.weekday() + 1) % 7 in self.weekdays
        return (day or weekday) if self.day_or else (day and weekday)


ALL_HOURS = frozenset(range(24))
ALL_DAYS = frozenset(range(1, 32))
ALL_MONTHS = frozenset(range(1, 13))
ALL_WEEKDAYS = frozenset(range(7))

Field = tuple[str, frozenset[int]]


def cron_field(
    low: int, high: int, hot: list[int], names: list[str] | None = None
) -> st.SearchStrategy[Field]:
    """One cron field as text, with the values it means; the values in `hot` (the wall
    clock's values around a transition) are drawn more often than the rest."""
    values = st.sampled_from(hot) | st.integers(low, high) if hot else st.integers(low, high)

    def token(draw: st.DrawFn, value: int) -> str:
        if names is not None and draw(st.booleans()):
            name = names[value - low]
            return name if draw(st.booleans()) else name.lower()
        return str(value)

    @st.composite
    def single(draw: st.DrawFn) -> Field:
        value = draw(values)
        return token(draw, value), frozenset({value})

    @st.composite
    def listed(draw: st.DrawFn) -> Field:
        chosen = draw(st.lists(values, min_size=2, max_size=4, unique=True))
        return ",".join(token(draw, v) for v in chosen), frozenset(chosen)

    @st.composite
    def ranged(draw: st.DrawFn) -> Field:
        start = min(draw(values), high - 1)
        end = draw(st.integers(start + 1, high))
        step = draw(st.one_of(st.just(1), st.integers(2, 10)))
        text = f"{token(draw, start)}-{token(draw, end)}" + (f"/{step}" if step > 1 else "")
        return text, frozenset(range(start, end + 1, step))

    @st.composite
    def stepped(draw: st.DrawFn) -> Field:
        step = draw(st.integers(2, max(2, (high - low) // 2)))
        if draw(st.booleans()):
            return f"*/{step}", frozenset(range(low, high + 1, step))
        start = draw(values)
        return f"{start}/{step}", frozenset(range(start, high + 1, step))

    everything: st.SearchStrategy[Field] = st.just(("*", frozenset(range(low, high + 1))))
    return st.one_of(everything, single(), listed(), ranged(), stepped())


def never_fires(days: Field, months: Field, weekdays: Field) -> bool:
    if days[0] == "*" or weekdays[0] != "*":
        return False
    longest = {m: (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[m - 1] for m in months[1]}
    return min(days[1]) > max(longest.values())


@dataclass(frozen=True)
class Focus:
    """The wall clock around one transition, to aim cadences at."""

    instant: datetime
    hours: list[int]  # the hours the clock shows just before, across and after it
    day: int
    weekday: int  # 0 = Sunday
    month: int


def focus_on(zone_name: str, instant: datetime) -> Focus:
    zone = zone_of(zone_name)
    before = (instant - QUARTER).astimezone(zone)
    after = instant.astimezone(zone)
    hours = sorted({before.hour, after.hour, (before + HOUR).hour, (after - HOUR).hour})
    return Focus(instant, hours, after.day, (after.weekday() + 1) % 7, after.month)


@st.composite
def custom_cases(draw: st.DrawFn, zone: str, focus: Focus | None) -> Case:
    hot = focus is not None
    minutes = draw(cron_field(0, 59, [0, 15, 30, 45] if hot else []))
    hours = draw(cron_field(0, 23, focus.hours if focus else []))
    days = draw(st.just(("*", ALL_DAYS)) | cron_field(1, 31, [focus.day] if focus else []))
    months = draw(
        st.just(("*", ALL_MONTHS)) | cron_field(1, 12, [focus.month] if focus else [], MONTHS)
    )
    weekdays = draw(
        st.just(("*", ALL_WEEKDAYS)) | cron_field(0, 6, [focus.weekday] if focus else [], DAYS)
    )
    if weekdays[0] == "0" and draw(st.booleans()):
        weekdays = ("7", weekdays[1])  # Sunday's other number
    expression = " ".join(f[0] for f in (minutes, hours, days, months, weekdays))
    if never_fires(days, months, weekdays):
        with pytest.raises(InvalidField, match="can never fire"):
            parse_cron(expression)
        assume(False)
    return Case(
        Cadence(CadenceKind.CUSTOM, zone, cron=expression),
        minutes[1],
        hours[1],
        days[1],
        months[1],
        weekdays[1],
        day_or=days[0] != "*" and weekdays[0] != "*",
    )


MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@st.composite
def cases(draw: st.DrawFn, zone: str, focus: Focus | None) -> Case:
    kind = draw(st.sampled_from(list(CadenceKind)))
    if kind is CadenceKind.CUSTOM:
        return draw(custom_cases(zone, focus))
    # Lord Howe's 30-minute shift treats minutes 0-29 and 30-59 differently.
    minute = draw(st.sampled_from([0, 15, 29, 30, 45, 59]) | st.integers(0, 59))
    minutes = frozenset({minute})
    if kind is CadenceKind.HOURLY:
        cadence = Cadence(kind, zone, minute=minute)
        return Case(cadence, minutes, ALL_HOURS, ALL_DAYS, ALL_MONTHS, ALL_WEEKDAYS, False)
    aim = focus is not None and draw(st.integers(0, 3)) > 0
    hour = draw(st.sampled_from(focus.hours)) if focus and aim else draw(st.integers(0, 23))
    hours = frozenset({hour})
    if kind is CadenceKind.DAILY:
        cadence = Cadence(kind, zone, hour=hour, minute=minute)
        return Case(cadence, minutes, hours, ALL_DAYS, ALL_MONTHS, ALL_WEEKDAYS, False)
    if kind is CadenceKind.WEEKLY:
        weekday = focus.weekday if focus and aim else draw(st.integers(0, 6))
        cadence = Cadence(
            kind, zone, day_of_week=list(DayOfWeek)[weekday], hour=hour, minute=minute
        )
        return Case(cadence, minutes, hours, ALL_DAYS, ALL_MONTHS, frozenset({weekday}), False)
    day = focus.day if focus and aim and focus.day <= 28 else draw(st.integers(1, 28))
    cadence = Cadence(kind, zone, day=day, hour=hour, minute=minute)
    return Case(cadence, minutes, hours, frozenset({day}), ALL_MONTHS, ALL_WEEKDAYS, False)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Case, Focus | None]:
    """A case, aimed four times in five at one of its zone's transitions if it has any."""
    # Mostly zones with DST, Lord Howe's odd 30-minute shift above all.
    zone = draw(st.sampled_from(ZONES[:4]) | st.sampled_from(ZONES) | st.just(ZONES[3]))
    near = transitions(zone)
    focus = None
    if near and draw(st.integers(0, 4)) > 0:
        focus = focus_on(zone, draw(st.sampled_from(near)))
    return draw(cases(zone, focus)), focus


# How far before a transition windows and starts may begin; fires are compared up to LIMIT,
# so a dense cron must start close to the transition for the comparison to reach it.
LEADS = {
    CadenceKind.HOURLY: timedelta(hours=12),
    CadenceKind.DAILY: timedelta(days=4),
    CadenceKind.WEEKLY: timedelta(days=21),
    CadenceKind.MONTHLY: timedelta(days=62),
    CadenceKind.CUSTOM: timedelta(hours=3),
}


def seconds(span: timedelta) -> int:
    return int(span.total_seconds())


def whole_minutes_often(draw: st.DrawFn, moment: datetime) -> datetime:
    # Whole minutes half of the time, so that starts land exactly on fire instants too.
    return moment.replace(second=0, microsecond=0) if draw(st.booleans()) else moment


@st.composite
def moments(draw: st.DrawFn, case: Case, focus: Focus | None) -> datetime:
    """An instant in 2024-2027: before the focused transition by up to a lead, or in the
    two hours after it (where a repeated hour lies), if there is a focus."""
    if focus is None:
        moment = FIRST + timedelta(seconds=draw(st.integers(0, seconds(LAST - FIRST) - 1)))
        return whole_minutes_often(draw, moment)
    lead = seconds(LEADS[case.cadence.kind])
    shift = draw(st.integers(0, 2 * seconds(HOUR)) | st.integers(-lead, 0))
    return whole_minutes_often(draw, focus.instant + timedelta(seconds=shift))


@st.composite
def windows(draw: st.DrawFn) -> tuple[Case, datetime, datetime]:
    """A case and a window (start, end]; with a focus, the window holds the transition."""
    case, focus = draw(scenarios())
    lead = seconds(LEADS[case.cadence.kind])
    if focus is None:
        start = draw(moments(case, focus))
        return case, start, start + timedelta(seconds=draw(st.integers(0, 2 * lead)))
    start = focus.instant - timedelta(seconds=draw(st.integers(1, lead)))
    # Past the hour after the transition, where a repeated hour shows its second occurrence.
    end = focus.instant + 2 * HOUR + timedelta(seconds=draw(st.integers(0, lead)))
    return case, whole_minutes_often(draw, start), end


@st.composite
def starts(draw: st.DrawFn) -> tuple[Case, datetime]:
    case, focus = draw(scenarios())
    return case, draw(moments(case, focus))


# --- the oracle ------------------------------------------------------------------------------


def oracle(case: Case, start: datetime, end: datetime) -> list[datetime]:
    """The fire instants in (start, end], worked out from UTC towards the wall clock."""
    zone = zone_of(case.cadence.timezone)
    fires: set[datetime] = set()
    # 1. Instants on whole minutes whose wall time matches. Offsets here are whole
    #    quarter-hours, so local minute m is only ever shown at UTC minutes m, m-15, m-30, m-45.
    utc_minutes = sorted({(m - q) % 60 for m in case.minutes for q in (0, 15, 30, 45)})
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour <= end:
        for utc_minute in utc_minutes:
            moment = hour + timedelta(minutes=utc_minute)
            if not start < moment <= end:
                continue
            local = moment.astimezone(zone)
            if case.matches(local.replace(tzinfo=None)) and (case.hourly or local.fold == 0):
                fires.add(moment)
        hour += HOUR
    # 2. Gap ends standing in for the wall times their gap swallowed.
    for moment in transitions(case.cadence.timezone):
        before, after = offset(moment - QUARTER, zone), offset(moment, zone)
        if not (start < moment <= end and after > before):
            continue
        first_wall = moment.replace(tzinfo=None) + before
        swallowed = [
            first_wall + k * MINUTE
            for k in range((after - before) // MINUTE)
            if case.matches(first_wall + k * MINUTE)
        ]
        if swallowed and (not case.hourly or hourly_gap_is_too_long(case, zone, moment)):
            fires.add(moment)
    return sorted(fires)


def hourly_gap_is_too_long(case: Case, zone: tzinfo, gap_end: datetime) -> bool:
    (minute,) = case.minutes
    earlier = gap_end - MINUTE
    while earlier.astimezone(zone).minute != minute:
        earlier -= MINUTE
    later = gap_end
    while later.astimezone(zone).minute != minute:
        later += MINUTE
    return later - earlier > HOUR


def is_gap_end_for(case: Case, moment: datetime) -> bool:
    zone = zone_of(case.cadence.timezone)
    before = offset(moment - timedelta(seconds=1), zone)
    after = offset(moment, zone)
    if after <= before:
        return False
    first_wall = moment.replace(tzinfo=None) + before
    return any(case.matches(first_wall + k * MINUTE) for k in range((after - before) // MINUTE))


# --- properties ------------------------------------------------------------------------------


@settings(PROPERTY_SETTINGS, max_examples=300)
@given(windows())
def test_fires_between_is_exactly_the_fires_in_the_window(
    window: tuple[Case, datetime, datetime],
) -> None:
    case, start, end = window
    expected = oracle(case, start, end)[:LIMIT]
    assert fires_between(case.cadence, start, end, LIMIT) == expected


@PROPERTY_SETTINGS
@given(starts())
def test_upcoming_is_strictly_increasing_and_walked_by_next_fire_after(
    drawn: tuple[Case, datetime],
) -> None:
    case, start = drawn
    fires = upcoming(case.cadence, start, 12)
    assert fires[0] > start
    assert all(a < b for a, b in pairwise(fires))
    assert all(f.tzinfo is UTC for f in fires)
    walked, moment = [], start
    for _ in fires:
        moment = next_fire_after(case.cadence, moment)
        walked.append(moment)
    assert walked == fires
    if case.hourly:
        assert all(b - a >= timedelta(minutes=30) for a, b in pairwise(fires))


@PROPERTY_SETTINGS
@given(starts())
def test_every_fire_is_a_matching_wall_time_or_a_gap_end(drawn: tuple[Case, datetime]) -> None:
    case, start = drawn
    zone = zone_of(case.cadence.timezone)
    for fire in upcoming(case.cadence, start, 12):
        local = fire.astimezone(zone)
        wall_matches = case.matches(local.replace(tzinfo=None))
        first_occurrence = case.hourly or local.fold == 0
        assert (wall_matches and first_occurrence) or is_gap_end_for(case, fire), local


@PROPERTY_SETTINGS
@given(starts())
def test_the_latest_fire_is_the_one_before_the_next(drawn: tuple[Case, datetime]) -> None:
    case, moment = drawn
    latest = last_fire_at_or_before(case.cadence, moment)
    assert latest <= moment
    assert next_fire_after(case.cadence, latest) > moment  # nothing fires in between
    assert next_fire_after(case.cadence, latest - timedelta(microseconds=1)) == latest


CRON_ALPHABET = "0123456789*/-, LW#?@MONJAFRIHSUTEDCyearlyhourly"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=CRON_ALPHABET, max_size=30))
def test_any_text_is_parsed_or_refused_with_a_reason(text: str) -> None:
    refusal: InvalidField | None = None
    try:
        spec = parse_cron(text)
    except InvalidField as exc:
        refusal = exc
    if refusal is not None:
        assert refusal.field_name == "custom.cron"
        assert refusal.reason
        return
    assert len(spec.fields) == 5
    assert spec.minutes <= set(range(60))
    assert spec.weekdays <= set(range(7))
