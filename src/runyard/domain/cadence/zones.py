"""The time zone a schedule fires in: an IANA name or a fixed UTC offset.

A schedule's `timezone` is kept as the user wrote it and parsed here each time it is needed
(the parse is cached). Fixed offsets (`+08:00`, `Z`) have no DST: every wall time exists
exactly once in them.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from runyard.errors import InvalidField

# The largest offset any place uses is +14:00 (Kiribati); -12:00 is the smallest, and we
# accept the symmetric range.
_MAX_OFFSET = timedelta(hours=14)

_OFFSET_RE = re.compile(r"([+-])(\d{2})(?::?(\d{2}))?", re.ASCII)


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
