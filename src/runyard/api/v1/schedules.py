"""Schedules of a project (a Runyard extension; Hex's API only reads them).

Bad input here is a 422 naming the field and the reason, and changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from runyard.api import project_wire, run_wire, schedule_wire, wire
from runyard.api.deps import ActorDep, ServicesDep
from runyard.api.openapi import errors
from runyard.domain.cadence import Cadence, CadenceKind
from runyard.domain.permissions import Action
from runyard.domain.slot_policy import CatchUp, Overlap
from runyard.errors import InvalidField
from runyard.services.schedules import ScheduleSpec, ScheduleView

router = APIRouter(tags=["schedules"], responses=errors(422))

_SUB_OBJECTS = ("hourly", "daily", "weekly", "monthly", "custom")


def hex_schedule_fields(view: ScheduleView) -> dict[str, Any]:
    """The seven keys of Hex's Schedule object; the sub-objects that do not apply are null."""
    c = view.cadence
    fields: dict[str, Any] = {"cadence": c.kind.value, "enabled": view.row.enabled}
    fields.update(dict.fromkeys(_SUB_OBJECTS))
    zone = c.timezone
    if c.kind is CadenceKind.HOURLY:
        fields["hourly"] = {"timezone": zone, "minute": c.minute}
    elif c.kind is CadenceKind.DAILY:
        fields["daily"] = {"timezone": zone, "minute": c.minute, "hour": c.hour}
    elif c.kind is CadenceKind.WEEKLY:
        day = c.day_of_week.value if c.day_of_week else None
        fields["weekly"] = {"timezone": zone, "minute": c.minute, "hour": c.hour, "dayOfWeek": day}
    elif c.kind is CadenceKind.MONTHLY:
        fields["monthly"] = {"timezone": zone, "minute": c.minute, "hour": c.hour, "day": c.day}
    else:
        fields["custom"] = {"timezone": zone, "cron": c.cron}
    return fields


def hex_schedule(view: ScheduleView) -> project_wire.HexSchedule:
    return project_wire.HexSchedule(**hex_schedule_fields(view))


def schedule_out(view: ScheduleView) -> schedule_wire.ScheduleOut:
    row = view.row
    zone = view.cadence.zone
    return schedule_wire.ScheduleOut(
        **hex_schedule_fields(view),
        id=row.id,
        projectId=row.project_id,
        timezone=view.cadence.timezone,
        description=view.description,
        inputParams=row.input_params,
        catchUp=row.catch_up,
        overlap=row.overlap,
        nextFireAt=wire.format_ts(row.next_fire_at),
        nextFireTimes=[
            schedule_wire.FireTime(utc=wire.format_ts(t) or "", local=_local(t, zone))
            for t in view.upcoming
        ],
        createdAt=wire.format_ts(row.created_at) or "",
        updatedAt=wire.format_ts(row.updated_at) or "",
        notifications=[
            run_wire.ProjectRunNotification.model_validate(n) for n in row.notifications
        ],
        notificationRecipients=[
            run_wire.ProjectRunNotificationRecipient.model_validate(r)
            for r in row.notification_recipients
        ],
        updatePublishedResults=row.update_published_results,
    )


def notifications_in(
    notifications: list[run_wire.ProjectRunNotification] | None,
) -> list[dict[str, Any]]:
    """The notifications to keep: RunProject's fields only. Unknown keys, which RunProject
    ignores as Hex does, are not saved with a schedule and copied into each of its runs."""
    known = set(run_wire.ProjectRunNotification.model_fields)
    return [
        n.model_dump(mode="json", exclude_none=True, include=known) for n in notifications or []
    ]


def _local(moment: datetime, zone: Any) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


def cadence_from(
    body: schedule_wire.ScheduleIn | schedule_wire.SchedulePatch, fallback_zone: str | None
) -> Cadence:
    """Build the domain cadence from Hex's shape; InvalidField (422) names what is wrong."""
    assert body.cadence is not None
    name = body.cadence.lower()
    sub = getattr(body, name)
    if sub is None:
        raise InvalidField(field_name=name, reason=f"is required for {body.cadence} cadences")
    for other in _SUB_OBJECTS:
        if other != name and getattr(body, other) is not None:
            raise InvalidField(
                field_name=other, reason=f"does not apply to {body.cadence} cadences"
            )
    zone = sub.timezone or body.timezone or fallback_zone
    if not zone:
        raise InvalidField(field_name=f"{name}.timezone", reason="is required")
    values = sub.model_dump(exclude={"timezone"})
    return Cadence(
        kind=CadenceKind(body.cadence),
        timezone=zone,
        minute=values.get("minute"),
        hour=values.get("hour"),
        day_of_week=values.get("dayOfWeek"),
        day=values.get("day"),
        cron=values.get("cron"),
    )


@router.get(
    "/projects/{projectId}/schedules",
    response_model=schedule_wire.ScheduleList,
    summary="List a project's schedules (Runyard extension)",
)
def list_schedules(
    projectId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> schedule_wire.ScheduleList:
    views = services.schedules.list(actor, str(projectId))
    return schedule_wire.ScheduleList(values=[schedule_out(v) for v in views])


@router.post(
    "/projects/{projectId}/schedules",
    status_code=201,
    response_model=schedule_wire.ScheduleOut,
    summary="Create a schedule (Runyard extension)",
)
def create_schedule(
    projectId: uuid.UUID, body: schedule_wire.ScheduleIn, actor: ActorDep, services: ServicesDep
) -> schedule_wire.ScheduleOut:
    spec = ScheduleSpec(
        cadence=cadence_from(body, None),
        enabled=body.enabled,
        input_params=body.inputParams,
        catch_up=CatchUp(body.catchUp),
        overlap=Overlap(body.overlap),
        notifications=notifications_in(body.notifications),
        update_published_results=body.updatePublishedResults,
    )
    return schedule_out(services.schedules.create(actor, str(projectId), spec))


@router.get(
    "/projects/{projectId}/schedules/{scheduleId}",
    response_model=schedule_wire.ScheduleOut,
    summary="Get a schedule with its next fire times (Runyard extension)",
)
def get_schedule(
    projectId: uuid.UUID, scheduleId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> schedule_wire.ScheduleOut:
    return schedule_out(services.schedules.get(actor, str(projectId), str(scheduleId)))


@router.patch(
    "/projects/{projectId}/schedules/{scheduleId}",
    response_model=schedule_wire.ScheduleOut,
    summary="Change, pause or resume a schedule (Runyard extension)",
)
def update_schedule(
    projectId: uuid.UUID,
    scheduleId: uuid.UUID,
    body: schedule_wire.SchedulePatch,
    actor: ActorDep,
    services: ServicesDep,
) -> schedule_wire.ScheduleOut:
    current = services.schedules.get(
        actor, str(projectId), str(scheduleId), for_action=Action.EDIT_PROJECTS
    )
    changes: dict[str, Any] = {}
    given = body.model_fields_set
    if body.cadence is not None:
        changes["cadence"] = cadence_from(body, current.cadence.timezone)
    elif given & set(_SUB_OBJECTS):
        raise InvalidField(field_name="cadence", reason="is required to change the cadence")
    elif body.timezone is not None:
        changes["cadence"] = replace(current.cadence, timezone=body.timezone)
    if body.enabled is not None:
        changes["enabled"] = body.enabled
    if body.inputParams is not None:
        changes["input_params"] = body.inputParams
    if body.catchUp is not None:
        changes["catch_up"] = body.catchUp
    if body.overlap is not None:
        changes["overlap"] = body.overlap
    if body.notifications is not None:
        changes["notifications"] = notifications_in(body.notifications)
    if body.updatePublishedResults is not None:
        changes["update_published_results"] = body.updatePublishedResults
    return schedule_out(services.schedules.update(actor, str(projectId), str(scheduleId), changes))


@router.delete(
    "/projects/{projectId}/schedules/{scheduleId}",
    status_code=204,
    response_class=Response,
    summary="Delete a schedule; its runs stay (Runyard extension)",
)
def delete_schedule(
    projectId: uuid.UUID, scheduleId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> Response:
    services.schedules.delete(actor, str(projectId), str(scheduleId))
    return Response(status_code=204)


@router.get(
    "/projects/{projectId}/schedules/{scheduleId}/skipped-slots",
    response_model=schedule_wire.SkippedSlotList,
    summary="Slots that did not become runs, and why (Runyard extension)",
)
def skipped_slots(
    projectId: uuid.UUID,
    scheduleId: uuid.UUID,
    actor: ActorDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> schedule_wire.SkippedSlotList:
    rows = services.schedules.skipped_slots(actor, str(projectId), str(scheduleId), limit, offset)
    return schedule_wire.SkippedSlotList(
        values=[
            schedule_wire.SkippedSlot(
                scheduledFor=wire.format_ts(r.scheduled_for) or "",
                kind=r.kind,
                reason=r.reason,
                recordedAt=wire.format_ts(r.recorded_at) or "",
            )
            for r in rows
        ]
    )
