"""Runyard's schedules API (an extension): a schedule in Hex's shape (contract §5.2) plus
Runyard's inputs and policies, its next fire times, and the slots it skipped."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from runyard.api.project_wire import HexSchedule
from runyard.api.run_wire import ProjectRunNotification, ProjectRunNotificationRecipient
from runyard.api.wire import StrictWire, Wire


class HourlyIn(StrictWire):
    timezone: str | None = None
    minute: int


class DailyIn(StrictWire):
    timezone: str | None = None
    hour: int
    minute: int


class WeeklyIn(StrictWire):
    timezone: str | None = None
    dayOfWeek: str
    hour: int
    minute: int


class MonthlyIn(StrictWire):
    timezone: str | None = None
    day: int
    hour: int
    minute: int


class CustomIn(StrictWire):
    timezone: str | None = None
    cron: str


class ScheduleIn(StrictWire):
    """A schedule in Hex's shape (the sub-object of its cadence carries the time zone; a
    top-level `timezone` is accepted too), plus Runyard's inputs and policies."""

    cadence: Literal["HOURLY", "DAILY", "WEEKLY", "MONTHLY", "CUSTOM"]
    timezone: str | None = None
    enabled: bool = True
    hourly: HourlyIn | None = None
    daily: DailyIn | None = None
    weekly: WeeklyIn | None = None
    monthly: MonthlyIn | None = None
    custom: CustomIn | None = None
    inputParams: dict[str, Any] = Field(default_factory=dict)
    catchUp: Literal["skip", "latest", "all"] = "latest"
    overlap: Literal["allow", "skip", "cancel_previous"] = "allow"
    # RunProject's notifications, given to every run the schedule fires.
    notifications: list[ProjectRunNotification] | None = None
    # Whether the runs it fires replace the project's published results.
    updatePublishedResults: bool = True


class SchedulePatch(StrictWire):
    """Only the fields given change. A new cadence needs its sub-object; a new `timezone`
    alone moves the current cadence to that zone. `notifications` replaces the whole list
    (`[]` clears it)."""

    cadence: Literal["HOURLY", "DAILY", "WEEKLY", "MONTHLY", "CUSTOM"] | None = None
    timezone: str | None = None
    enabled: bool | None = None
    hourly: HourlyIn | None = None
    daily: DailyIn | None = None
    weekly: WeeklyIn | None = None
    monthly: MonthlyIn | None = None
    custom: CustomIn | None = None
    inputParams: dict[str, Any] | None = None
    catchUp: Literal["skip", "latest", "all"] | None = None
    overlap: Literal["allow", "skip", "cancel_previous"] | None = None
    notifications: list[ProjectRunNotification] | None = None
    updatePublishedResults: bool | None = None


class FireTime(Wire):
    utc: str
    local: str


class ScheduleOut(HexSchedule):
    id: str
    projectId: str
    timezone: str
    description: str
    inputParams: dict[str, Any]
    catchUp: str
    overlap: str
    nextFireAt: str | None
    nextFireTimes: list[FireTime]
    createdAt: str
    updatedAt: str
    # As saved (the shape PATCH takes), and who they reach, as its runs will list them.
    notifications: list[ProjectRunNotification] = Field(default_factory=list)
    notificationRecipients: list[ProjectRunNotificationRecipient] = Field(default_factory=list)
    updatePublishedResults: bool = True


class ScheduleList(Wire):
    values: list[ScheduleOut]


class SkippedSlot(Wire):
    scheduledFor: str
    kind: str
    reason: str
    recordedAt: str


class SkippedSlotList(Wire):
    values: list[SkippedSlot]
