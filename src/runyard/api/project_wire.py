"""Hex's project object (contract §5) and the bodies and answers of the project endpoints:
list, create, edit, publish, import. The project's `sharing` (with `includeSharing=true`) is
described here because the project carries it; the sharing endpoints are in `sharing_wire`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from runyard.api.wire import Pagination, StrictWire, Wire
from runyard.domain.access import AccessLevel


class Email(Wire):
    email: str


class Named(Wire):
    name: str


class Category(Wire):
    name: str
    description: str | None = None


class Reviews(Wire):
    required: bool = False


class AppViews(Wire):
    lastThirtyDays: int = 0
    lastFourteenDays: int = 0
    lastSevenDays: int = 0
    allTime: int = 0


class Analytics(Wire):
    publishedResultsUpdatedAt: str | None = None
    lastViewedAt: str | None = None
    appViews: AppViews = Field(default_factory=AppViews)


class HexSchedule(Wire):
    cadence: Literal["HOURLY", "DAILY", "WEEKLY", "MONTHLY", "CUSTOM"]
    enabled: bool
    hourly: dict[str, Any] | None
    daily: dict[str, Any] | None
    weekly: dict[str, Any] | None
    monthly: dict[str, Any] | None
    custom: dict[str, Any] | None


class ParameterOut(Wire):
    """Runyard extension: the inputs a published version declares."""

    name: str
    dataType: str
    inputCellType: str
    default: Any = None
    nullable: bool = False
    annotation: str | None = None


class Access(Wire):
    access: AccessLevel


class UserSharing(Access):
    user: Email


class GroupSharing(Access):
    group: Named


class CollectionAccessOut(Access):
    collection: Named


class ProjectSharingOut(Wire):
    """Hex's `SharingResource`: all six keys, always."""

    users: list[UserSharing]
    collections: list[CollectionAccessOut]
    groups: list[GroupSharing]
    workspace: Access
    publicWeb: Access
    support: Access


class Project(Wire):
    id: str
    title: str
    description: str | None
    type: Literal["PROJECT", "COMPONENT"]
    creator: Email
    owner: Email
    status: Named | None
    categories: list[Category]
    reviews: Reviews
    analytics: Analytics
    lastEditedAt: str
    lastPublishedAt: str | None
    createdAt: str
    archivedAt: str | None
    trashedAt: str | None
    schedules: list[HexSchedule]
    # Runyard extensions (optional, new fields only):
    latestVersion: int | None = None
    parameters: list[ParameterOut] = Field(default_factory=list)
    runTimeoutSeconds: float | None = None
    memoryLimitMb: int | None = None
    # Present only when asked for with `includeSharing=true`.
    sharing: ProjectSharingOut | None = Field(default=None, exclude_if=lambda v: v is None)


class ProjectList(Wire):
    values: list[Project]
    pagination: Pagination


class CreateProjectBody(StrictWire):
    title: str = Field(min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=20_000)


class UpdateProjectBody(StrictWire):
    status: str | None = Field(default=None, max_length=200)
    runTimeoutSeconds: float | None = Field(default=None, gt=0, le=7 * 24 * 3600)
    # Up to 1 TB; null: the server's RUNYARD_KERNEL_MEMORY_LIMIT_MB.
    memoryLimitMb: int | None = Field(default=None, ge=64, le=1024 * 1024)


class PublishedVersionOut(Wire):
    projectId: str
    version: int
    publishedAt: str
    parameters: list[ParameterOut]


class ImportResult(Wire):
    project: Project
    publishedVersion: int | None
