"""When a cadence fires: its wall times resolved to instants, through DST.

Pure functions: no I/O and no clock, callers pass the instant to start from. Every instant
they return is an aware UTC datetime.

How the next fire is found
--------------------------
1. List the cadence's *wall times*: naive local date-times that match it, in order, by plain
   arithmetic for the fixed kinds and by croniter on naive datetimes for CUSTOM. croniter
   never sees a time zone: its own DST handling has had bugs, and the rules below are ours.
   That step is the module `walls`; the others are here.
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
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache

from runyard.domain.cadence.shape import Cadence, CadenceKind, required_field
from runyard.domain.cadence.walls import walls_after, walls_at_or_before

_HOUR = timedelta(hours=1)
_SECOND = timedelta(seconds=1)

# Wall times that resolve to instants at or before the starting point are skipped. Only the
# wall times of a fall-back overlap (and, for HOURLY, those of a gap that fire nothing) are
# skipped this way: 60 for an every-minute cron in a one-hour overlap. The bound turns a bug
# or a pathological zone into an error instead of a hang.
_MAX_STEPS = 10_000


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
    if c.kind is CadenceKind.HOURLY and not _hourly_gap_fires(zone, required_field(c.minute), end):
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
    for step, candidate in enumerate(walls_after(c, wall)):
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
    for step, candidate in enumerate(walls_at_or_before(c, wall)):
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
