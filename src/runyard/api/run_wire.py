"""Hex's run endpoints (contract §6): RunProject's body and answer, the run object, the
run list, and the notifications a run is asked to send (a schedule gives its runs the same)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from runyard.api.wire import RequestWire, Wire


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
