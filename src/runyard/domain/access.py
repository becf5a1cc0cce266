"""Access levels on shared objects (projects, collections), weakest to strongest.

Hex's project `AccessLevel` values; collections use the same ones (contract §16 Q3). `NONE`
in a sharing upsert removes the grant, so a stored grant is never `NONE`.
"""

from __future__ import annotations

from enum import StrEnum


class AccessLevel(StrEnum):
    NONE = "NONE"
    APP_ONLY = "APP_ONLY"
    CAN_VIEW = "CAN_VIEW"
    CAN_EDIT = "CAN_EDIT"
    FULL_ACCESS = "FULL_ACCESS"


_ORDER = list(AccessLevel)


def at_least(level: AccessLevel, minimum: AccessLevel) -> bool:
    """True if `level` grants everything `minimum` grants."""
    return _ORDER.index(level) >= _ORDER.index(minimum)


def strongest(levels: list[AccessLevel]) -> AccessLevel:
    """The strongest of several grants (a user's own, their groups', the workspace's)."""
    return max(levels, key=_ORDER.index, default=AccessLevel.NONE)
