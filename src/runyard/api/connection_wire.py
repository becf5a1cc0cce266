"""Wire models of Hex's data-connection endpoints (contract §9).

`connectionDetails` arrives as a plain object here and is checked against its type's shape
in `domain/connections.py`, whose error messages never carry the values given (secrets may
be among them). The models below validate everything else; their messages name fields and
rules, not values.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field

from runyard.api.wire import Pagination, StrictWire, Wire
from runyard.domain.connections import ConnectionType, SchemaRefreshAccess, SharingAccess

DETAILS_DESCRIPTION = (
    "One key named after the type, holding that type's fields, e.g. "
    '`{"postgres": {"hostname": "db", "port": 5432, "database": "sales", '
    '"username": "analyst", "password": "…"}}`. Secret fields (passwords, keys, tokens, '
    "service-account JSON) are write-only: encrypted at rest, never returned. See "
    "docs/data-connections.md for every type's fields."
)


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError("unknown time zone (use an IANA name such as America/New_York)") from None
    return name


TimeZoneName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_known_zone)]
Minute = Annotated[int, Field(ge=0, le=59)]
Hour = Annotated[int, Field(ge=0, le=23)]


# -- requests ----------------------------------------------------------------------------


class GroupIdIn(StrictWire):
    id: uuid.UUID


class GroupGrantIn(StrictWire):
    group: GroupIdIn
    access: SharingAccess


class WorkspaceSharingIn(StrictWire):
    public: Literal["NONE", "VIEW_RESULTS"] | None = None
    guests: SharingAccess | None = None
    members: SharingAccess | None = None


class CreateSharingIn(StrictWire):
    workspace: WorkspaceSharingIn | None = None
    groups: list[GroupGrantIn] | None = Field(default=None, max_length=100)


class GroupUpsertIn(StrictWire):
    upsert: list[GroupGrantIn] = Field(max_length=100)


class EditSharingIn(StrictWire):
    """As on create, except that `groups` is `{upsert: […]}` (contract §9.4)."""

    workspace: WorkspaceSharingIn | None = None
    groups: GroupUpsertIn | None = None


class MatchRule(StrictWire):
    values: list[Annotated[str, Field(max_length=1000)]] = Field(max_length=1000)
    matchType: Literal["EXACT", "PREFIX", "REGEX", "SUFFIX"]


class IncludeExclude(StrictWire):
    include: MatchRule | None = None
    exclude: MatchRule | None = None


class SchemaFilters(StrictWire):
    databases: IncludeExclude | None = None
    schemas: IncludeExclude | None = None
    tables: IncludeExclude | None = None


class DailyRefresh(StrictWire):
    timezoneString: TimeZoneName
    minute: Minute
    hour: Hour


class WeeklyRefresh(DailyRefresh):
    dayOfWeek: Literal["SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"]


class MonthlyRefresh(DailyRefresh):
    day: Annotated[int, Field(ge=1, le=28)]


class CustomRefresh(StrictWire):
    timezoneString: TimeZoneName
    cron: str = Field(min_length=1, max_length=200)


class SchemaRefreshSchedule(StrictWire):
    """Hex's `SchemaRefreshScheduleApiResource`: no `hourly` sub-object, `timezoneString`."""

    cadence: Literal["HOURLY", "DAILY", "WEEKLY", "MONTHLY", "CUSTOM"]
    enabled: bool
    daily: DailyRefresh | None = None
    weekly: WeeklyRefresh | None = None
    monthly: MonthlyRefresh | None = None
    custom: CustomRefresh | None = None


Name = Annotated[str, Field(min_length=1, max_length=500)]
Description = Annotated[str, Field(max_length=20_000)]
Details = Annotated[dict[str, Any], Field(description=DETAILS_DESCRIPTION)]
# A year at most: a kept result older than that is no cache but a snapshot.
CacheLifetime = Annotated[
    int,
    Field(
        ge=0,
        le=365 * 24 * 3600,
        description="Runyard extension: how long, in seconds, a SQL cell's result on this "
        "connection is reused by runs with `useCachedSqlResults` (default 300); 0 keeps none.",
    ),
]


class CreateConnectionBody(StrictWire):
    name: Name
    type: ConnectionType
    connectionDetails: Details
    description: Description | None = None
    connectViaSsh: bool = False
    includeMagic: bool = False
    allowWritebackCells: bool = False
    schemaFilters: SchemaFilters | None = None
    schemaRefreshSchedule: SchemaRefreshSchedule | None = None
    schemaRefreshAccess: SchemaRefreshAccess = SchemaRefreshAccess.ADMINS
    sharing: CreateSharingIn | None = None
    cacheLifetimeSeconds: CacheLifetime = 300


class EditConnectionBody(StrictWire):
    """Every field optional; only those given change. Only `description`, `schemaFilters`
    and `schemaRefreshSchedule` may be null (to clear them); see `NOT_NULLABLE`."""

    name: Name | None = None
    type: ConnectionType | None = None
    connectionDetails: Details | None = None
    description: Description | None = None
    connectViaSsh: bool | None = None
    includeMagic: bool | None = None
    allowWritebackCells: bool | None = None
    schemaFilters: SchemaFilters | None = None
    schemaRefreshSchedule: SchemaRefreshSchedule | None = None
    schemaRefreshAccess: SchemaRefreshAccess | None = None
    sharing: EditSharingIn | None = None
    cacheLifetimeSeconds: CacheLifetime | None = None

    def given_nulls(self) -> list[str]:
        """The fields sent as null that may not be null."""
        return sorted(
            name for name in self.model_fields_set & NOT_NULLABLE if getattr(self, name) is None
        )


NOT_NULLABLE = frozenset(
    {
        "name",
        "type",
        "connectionDetails",
        "connectViaSsh",
        "includeMagic",
        "allowWritebackCells",
        "schemaRefreshAccess",
        "sharing",
        "cacheLifetimeSeconds",
    }
)


# -- responses ---------------------------------------------------------------------------


class GroupOut(Wire):
    id: str
    name: str


class GroupGrantOut(Wire):
    group: GroupOut
    access: str


class WorkspaceSharingOut(Wire):
    public: str
    guests: str
    members: str


class SharingOut(Wire):
    workspace: WorkspaceSharingOut
    groups: list[GroupGrantOut]


class DataConnection(Wire):
    """Hex's `DataConnection`: `connectionDetails` in its readable form (no secrets)."""

    id: str
    name: str
    type: str
    connectionDetails: dict[str, dict[str, Any]] | None
    connectViaSsh: bool
    includeMagic: bool
    allowWritebackCells: bool
    schemaRefreshAccess: str
    sharing: SharingOut
    description: str | None = None
    schemaFilters: dict[str, Any] | None = None
    schemaRefreshSchedule: dict[str, Any] | None = None
    # Runyard extensions:
    createdAt: str | None = None
    updatedAt: str | None = None
    cacheLifetimeSeconds: int | None = None


class DataConnectionBasic(Wire):
    """What someone a connection is shared with, but who does not administer it, reads."""

    id: str
    name: str
    type: str
    # Optional, not nullable, in Hex's `DataConnectionBasic`: left out when there is none.
    description: str | None = Field(default=None, exclude_if=lambda v: v is None)


class DataConnectionList(Wire):
    values: list[DataConnection | DataConnectionBasic]
    pagination: Pagination
