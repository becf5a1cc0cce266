"""Wire models: the JSON shapes of Hex's API v1 and of Runyard's extensions.

Field names follow `shared/api/hex-api-v1.md` exactly (camelCase). Timestamps go out as
`YYYY-MM-DDTHH:MM:SS.mmmZ`: DataHub's client parses that fixed format and nothing else.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    MISSING,
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from runyard.domain.access import AccessLevel
from runyard.domain.permissions import Role, TokenType


def format_ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


# NUL, which PostgreSQL stores in neither text nor jsonb, and the halves of surrogate pairs,
# which have no UTF-8 form (JSON's "\ud800" escape yields one): no store or answer takes them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def refuse_unstorable_text(value: Any) -> Any:
    """`value` unchanged, or ValueError if a string in it (a key included) holds a character
    that cannot be stored or sent back: NUL, or a lone surrogate."""
    pending = [value]
    while pending:  # a loop, not recursion: JSON may nest deeper than Python's stack
        item = pending.pop()
        if isinstance(item, str):
            found = _UNSTORABLE.search(item)
            if found and found.group() == "\x00":
                raise ValueError("must not contain the NUL character (\\u0000)")
            if found:
                raise ValueError("must be Unicode text (a lone surrogate is not)")
        elif isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list | tuple):
            pending += item
    return value


class RequestWire(BaseModel):
    """Request bodies. No string in one may hold NUL or a lone surrogate: PostgreSQL would
    refuse the first (a 500 there, yet stored on SQLite), and neither store nor JSON answer
    can encode the second; refused here, each is a 400 naming the field. Nested models check
    their own fields."""

    @field_validator("*")
    @classmethod
    def _storable_fields(cls, value: Any) -> Any:
        return refuse_unstorable_text(value)

    @model_validator(mode="after")
    def _storable_extra_fields(self) -> Self:
        refuse_unstorable_text(self.__pydantic_extra__ or {})
        return self


class StrictWire(RequestWire):
    """Request bodies whose contract forbids unknown fields."""

    model_config = ConfigDict(extra="forbid")


# -- errors ------------------------------------------------------------------------------


class ErrorIssue(Wire):
    message: str


class ErrorBody(Wire):
    """One superset body for every error, so each client finds the keys it reads."""

    code: str
    message: str
    issues: list[ErrorIssue] = Field(default_factory=list)
    reason: str
    details: str | None = None
    traceId: str


class InvalidParamItem(Wire):
    paramName: str
    paramValue: str
    dataType: str
    inputCellType: str


class InvalidParamBody(ErrorBody):
    invalid: list[InvalidParamItem]
    notFound: list[str]


# -- projects ----------------------------------------------------------------------------


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


class Pagination(Wire):
    after: str | None
    before: str | None


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


# -- runs --------------------------------------------------------------------------------


class NotificationType(StrEnum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    ALL = "ALL"


class ProjectRunNotification(RequestWire):
    model_config = ConfigDict(extra="allow")

    type: NotificationType
    includeSuccessScreenshot: bool = False
    screenshotFormat: Literal["png", "pdf"] | list[Literal["png", "pdf"]] | None = None
    slackChannelIds: list[str] | None = None
    userIds: list[str] | None = None
    groupIds: list[str] | None = None
    subject: str | None = None
    body: str | None = None


class RunProjectBody(RequestWire):
    """Hex's RunProjectRequestBody. Unknown fields are ignored, as Hex does."""

    inputParams: dict[str, Any] | None = None
    dryRun: bool = False
    updateCache: bool | None = None
    updatePublishedResults: bool | None = None
    useCachedSqlResults: bool | None = None
    viewId: str | None = None
    notifications: list[ProjectRunNotification] | None = None


class NotificationRecipient(Wire):
    id: str
    name: str
    isPrivate: bool | None = None


class ProjectRunNotificationRecipient(Wire):
    type: NotificationType
    recipientType: Literal["USER", "GROUP", "SLACK_CHANNEL"]
    includeSuccessScreenshot: bool
    recipient: NotificationRecipient
    subject: str | None = None
    body: str | None = None
    screenshotFormat: list[Literal["png", "pdf"]] | None = None

    @model_serializer(mode="wrap")
    def _leave_out_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Hex's optional fields are absent, not null, when a notification has none.
        data: dict[str, Any] = handler(self)
        for key in ("subject", "body", "screenshotFormat"):
            if data.get(key) is None:
                data.pop(key, None)
        if data["recipient"].get("isPrivate") is None:
            data["recipient"].pop("isPrivate", None)
        return data


def _without_empty_notifications(data: dict[str, Any]) -> dict[str, Any]:
    # `notifications` is present only on runs that have recipients (Hex's optional field).
    if data.get("notifications") is None:
        data.pop("notifications", None)
    return data


class RunTriggered(Wire):
    projectId: str
    runId: str
    runUrl: str
    runStatusUrl: str
    traceId: str
    projectVersion: int
    notifications: list[ProjectRunNotificationRecipient] | None = None
    # Runyard extension: true on a dry run's answer (left out otherwise), whose runId is the
    # nil UUID: nothing ran, and reading that run says so.
    dryRun: bool | None = None

    @model_serializer(mode="wrap")
    def _leave_out_no_notifications(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = _without_empty_notifications(handler(self))
        if data.get("dryRun") is None:
            data.pop("dryRun", None)
        return data


class StateEvent(Wire):
    type: str
    value: str
    timestamp: str


class RunError(Wire):
    """Runyard extension: why a run did not complete, and where."""

    message: str
    cellIndex: int | None = None
    cellId: str | None = None
    ename: str | None = None
    evalue: str | None = None
    traceback: list[str] | None = None


class ProjectRun(Wire):
    projectId: str
    projectVersion: int
    runId: str
    runUrl: str
    status: str
    runTrigger: str
    startTime: str | None
    endTime: str | None
    elapsedTime: int | None
    traceId: str
    stateEvents: list[StateEvent] | None = None
    notifications: list[ProjectRunNotificationRecipient] | None = None
    # Runyard extensions:
    inputParams: dict[str, Any] = Field(default_factory=dict)
    error: RunError | None = None
    scheduleId: str | None = None
    scheduledFor: str | None = None
    latenessMs: int | None = None
    kernelStartTime: str | None = None

    @model_serializer(mode="wrap")
    def _leave_out_no_notifications(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _without_empty_notifications(handler(self))


class RunList(Wire):
    runs: list[ProjectRun]
    nextPage: str | None
    previousPage: str | None
    traceId: str


# -- schedules (Runyard extension) --------------------------------------------------------


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


# -- saved views (Runyard extension) --------------------------------------------------------


def _not_blank_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


ViewName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_not_blank_text)]


class CreateViewBody(StrictWire):
    name: ViewName
    inputParams: dict[str, Any] = Field(default_factory=dict)


class RenameViewBody(StrictWire):
    name: ViewName


class SavedView(Wire):
    id: str
    projectId: str
    name: str
    inputParams: dict[str, Any]
    createdAt: str
    updatedAt: str


class SavedViewList(Wire):
    values: list[SavedView]


# -- cells (Hex's cells API over the draft notebook) ---------------------------------------


class CodeCellContents(Wire):
    source: str


class SqlCellContents(Wire):
    source: str
    outputDataframe: str | None


class CellContents(Wire):
    codeCell: CodeCellContents | None
    sqlCell: SqlCellContents | None
    markdownCell: CodeCellContents | None


class CellOut(Wire):
    id: str
    staticId: str
    cellType: str
    label: str | None
    dataConnectionId: str | None
    projectId: str
    contents: CellContents


class CellList(Wire):
    values: list[CellOut]
    pagination: Pagination


class SourceIn(StrictWire):
    source: str = Field(max_length=1_000_000)


class SqlCellIn(StrictWire):
    source: str = Field(max_length=1_000_000)
    dataConnectionId: str | None = Field(default=None, min_length=1, max_length=255)
    isDataframeSql: bool | None = None
    outputDataframe: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class CreateCellContents(StrictWire):
    codeCell: SourceIn | None = None
    sqlCell: SqlCellIn | None = None
    markdownCell: SourceIn | None = None


class CellLocation(StrictWire):
    insertAfterCellId: uuid.UUID | None = None
    parentCellId: uuid.UUID | None = None
    childPosition: Literal["FIRST", "LAST"] = "LAST"


class CreateCellBody(StrictWire):
    projectId: uuid.UUID
    cellType: Literal["CODE", "SQL", "MARKDOWN"]
    label: str | None = Field(default=None, max_length=500)
    contents: CreateCellContents
    location: CellLocation | None = None


class SqlCellPatch(StrictWire):
    source: str | None = Field(default=None, max_length=1_000_000)
    outputDataframe: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class UpdateCellContents(StrictWire):
    codeCell: SourceIn | None = None
    sqlCell: SqlCellPatch | None = None
    markdownCell: SourceIn | None = None


class UpdateCellBody(StrictWire):
    dataConnectionId: str | None = Field(default=None, min_length=1, max_length=255)
    contents: UpdateCellContents | None = None


class DeletedCell(Wire):
    cellId: str


class CellRef(Wire):
    id: str
    staticId: str
    cellType: str


class CellOutputOut(Wire):
    projectId: str
    runId: str
    cell: CellRef
    result: dict[str, Any]


# -- queried tables ----------------------------------------------------------------------


class QueriedTable(Wire):
    dataConnectionId: str
    dataConnectionName: str
    tableName: str


class QueriedTableList(Wire):
    values: list[QueriedTable]
    pagination: Pagination
    traceId: str


# -- embedding -----------------------------------------------------------------------------


class DisplayOptions(RequestWire):
    model_config = ConfigDict(extra="allow")

    theme: Literal["light", "dark"] | None = None
    showEmbeddedRunButton: bool | None = None
    noEmbedHeaderPadding: bool | None = None
    noEmbedBasePadding: bool | None = None
    noEmbedOutline: bool | None = None
    noEmbedFooter: bool | None = None


class CreatePresignedUrlBody(RequestWire):
    """Hex's body: extra properties are allowed (and ignored)."""

    model_config = ConfigDict(extra="allow")

    hexUserAttributes: dict[str, str] | None = None
    scope: list[Literal["EXPORT_PDF", "EXPORT_CSV"]] | None = None
    inputParameters: dict[str, Any] | None = None
    # A number of milliseconds (hex-toolkit sends a float such as 15000.0).
    expiresIn: float = Field(default=15_000, gt=0, le=300_000, allow_inf_nan=False)
    displayOptions: DisplayOptions | None = None
    testMode: bool = False


class PresignedUrl(Wire):
    model_config = ConfigDict(extra="forbid")

    url: str


# -- groups ------------------------------------------------------------------------------


class UserRef(StrictWire):
    id: uuid.UUID


class GroupMembersIn(StrictWire):
    users: list[UserRef] = Field(default_factory=list, max_length=100)


class CreateGroupBody(StrictWire):
    name: str = Field(min_length=1, max_length=255)
    members: GroupMembersIn | None = None


class EditGroupMembersIn(StrictWire):
    """`add` and `remove` as Hex's spec says; a bare `users` (what some clients send, as in
    CreateGroup) is read as `add` (contract Q10)."""

    add: GroupMembersIn | None = None
    remove: GroupMembersIn | None = None
    users: list[UserRef] | None = Field(default=None, max_length=100)


class EditGroupBody(StrictWire):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    members: EditGroupMembersIn | None = None


class Group(Wire):
    id: str
    name: str
    createdAt: str


class IdRef(Wire):
    id: str


class GroupMembersOut(Wire):
    users: list[IdRef]


class CreatedGroup(Wire):
    id: str
    name: str
    members: GroupMembersOut


class GroupList(Wire):
    values: list[Group]
    pagination: Pagination


class GroupMember(Wire):
    id: str
    email: str
    name: str | None


class GroupMemberList(Wire):
    """Runyard extension: who is in a group."""

    users: list[GroupMember]


# -- collections -------------------------------------------------------------------------


class SharingEntryIn(StrictWire):
    id: uuid.UUID
    access: AccessLevel


class WorkspaceSharingIn(StrictWire):
    members: AccessLevel | None = None


class CollectionSharingIn(StrictWire):
    users: list[SharingEntryIn] = Field(default_factory=list, max_length=100)
    groups: list[SharingEntryIn] = Field(default_factory=list, max_length=100)
    workspace: WorkspaceSharingIn | None = None


class CollectionSharingUpsertIn(StrictWire):
    upsert: CollectionSharingIn


class CreateCollectionBody(StrictWire):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=20_000)
    sharing: CollectionSharingIn | None = None


class EditCollectionBody(StrictWire):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=20_000)
    sharing: CollectionSharingUpsertIn | None = None


class SharingEntry(Wire):
    id: str
    access: str


class WorkspaceSharing(Wire):
    members: str


class CollectionSharing(Wire):
    users: list[SharingEntry]
    groups: list[SharingEntry]
    workspace: WorkspaceSharing


class Creator(Wire):
    email: str
    id: str


def _absent(value: object) -> bool:
    return value is None


class Collection(Wire):
    id: str
    name: str
    # Left out rather than null when there is none: Hex types these as optional, not
    # nullable, and its Collection forbids unlisted properties, so a strict client could
    # reject a null.
    description: str | None = Field(default=None, exclude_if=_absent)
    creator: Creator | None = Field(default=None, exclude_if=_absent)
    sharing: CollectionSharing


class CollectionList(Wire):
    values: list[Collection]
    pagination: Pagination


class CollectionRef(StrictWire):
    id: uuid.UUID


class ProjectCollectionEntry(StrictWire):
    collection: CollectionRef
    access: AccessLevel


class ProjectCollectionsUpsert(StrictWire):
    collections: list[ProjectCollectionEntry] = Field(max_length=25)


class ProjectCollectionsSharing(StrictWire):
    upsert: ProjectCollectionsUpsert


class EditProjectCollectionsBody(StrictWire):
    sharing: ProjectCollectionsSharing


class CollectionSharingError(Wire):
    collectionIds: list[str]
    reason: str


class ProjectCollectionsResult(Wire):
    project: Project
    # Optional in Hex's answer: left out when every collection was found.
    errors: list[CollectionSharingError] | None = Field(default=None, exclude_if=_absent)


# -- users and API tokens ------------------------------------------------------------------


class User(Wire):
    id: str
    name: str | None
    email: str
    role: str
    lastLoginDate: str | None
    # Runyard extension (an admin needs it to find whom to reactivate):
    deactivatedAt: str | None = None


class UserList(Wire):
    values: list[User]
    pagination: Pagination


class UserEnvelope(Wire):
    user: User


class OrgRef(Wire):
    id: str


class TokenExpiry(Wire):
    exp: int | None  # seconds since the epoch; null for a token that never expires


class MePersonal(Wire):
    """`GET /users/me` for a personal token: the user, the workspace, the token's expiry."""

    id: str
    name: str | None
    email: str
    role: str
    lastLoginDate: str | None
    org: OrgRef
    token: TokenExpiry | None


class MeWorkspace(Wire):
    """`GET /users/me` for a workspace token: no user fields, as Hex answers."""

    # Forbidding extra keys makes the response union pick MePersonal for a personal token.
    model_config = ConfigDict(extra="forbid")

    org: OrgRef
    token: TokenExpiry | None


# One @, something on each side, no spaces: enough to catch typos without refusing the
# addresses a self-hosted workspace really uses (admin@localhost, say).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# The user service stores a name as given, so a name of spaces alone is refused here.
UserName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_not_blank)]


class CreateUserBody(StrictWire):
    email: str = Field(min_length=3, max_length=320, pattern=EMAIL_PATTERN)
    name: UserName | None = None
    role: Role = Role.MEMBER


class UpdateUserBody(StrictWire):
    """Only the fields given change; `name: null` clears the name. A user always has a
    role: `role` may be left out, but not null."""

    name: UserName | None = None
    # MISSING, not None, when left out: the schema then says optional and not nullable.
    role: Role | MISSING = MISSING


class CreateTokenBody(StrictWire):
    type: TokenType
    description: str | None = Field(default=None, max_length=500)
    scopes: list[str] = Field(default_factory=list, max_length=64)
    # Omitted: the longest lifetime allowed for a personal token, never for a workspace one.
    expiresAt: AwareDatetime | None = None
    # Runyard extension: an admin issues a personal token for another user.
    userId: uuid.UUID | None = None


class TokenUser(Wire):
    id: str
    email: str


class TokenOut(Wire):
    id: str
    type: str
    description: str | None
    scopes: list[str]
    expiresAt: str | None
    createdAt: str
    lastUsedAt: str | None = None
    revokedAt: str | None = None
    user: TokenUser


class CreatedTokenOut(TokenOut):
    token: str  # the secret: shown in this answer and never again


class TokenList(Wire):
    values: list[TokenOut]
    pagination: Pagination
