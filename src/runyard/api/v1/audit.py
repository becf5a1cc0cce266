"""The audit log (a Runyard extension): who changed what, newest first, for admins only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from runyard.api import wire
from runyard.api.deps import ActorDep, ServicesDep
from runyard.errors import BadRequest
from runyard.services.audit import AuditQuery
from runyard.store.audit import AuditEventRow

router = APIRouter(tags=["audit"])


class AuditActor(wire.Wire):
    userId: str | None
    email: str | None
    tokenId: str | None


class AuditTarget(wire.Wire):
    type: str
    id: str


class AuditEvent(wire.Wire):
    id: str
    at: str
    action: str
    actor: AuditActor
    target: AuditTarget
    details: dict[str, Any]
    traceId: str | None


class AuditList(wire.Wire):
    values: list[AuditEvent]
    pagination: wire.Pagination


def event_out(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        at=wire.format_ts(row.at) or "",
        action=row.action,
        actor=AuditActor(
            userId=row.actor_user_id, email=row.actor_email, tokenId=row.actor_token_id
        ),
        target=AuditTarget(type=row.target_type, id=row.target_id),
        details=row.details,
        traceId=row.trace_id,
    )


def _moment(field: str, value: str | None) -> datetime | None:
    """An ISO 8601 timestamp with a zone (`Z` accepted); anything else is a 400."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadRequest(
            "Invalid input data",
            issues=[f"{field}: {value!r} is not an ISO 8601 timestamp with a time zone"],
        )
    return moment


def _user_id(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadRequest(
            "Invalid input data", issues=[f"actorUserId: {value!r} is not a UUID"]
        ) from None


@router.get(
    "/audit",
    response_model=AuditList,
    summary="List audit events, newest first; admins only (Runyard extension)",
)
def list_audit(
    actor: ActorDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: str | None = None,
    before: str | None = None,
    action: Annotated[str | None, Query(description="Prefix, e.g. `user.`")] = None,
    actorUserId: str | None = None,
    targetType: str | None = None,
    targetId: str | None = None,
    since: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
    until: Annotated[str | None, Query(description="ISO 8601, exclusive")] = None,
) -> AuditList:
    query = AuditQuery(
        action_prefix=action or None,
        actor_user_id=_user_id(actorUserId),
        target_type=targetType,
        target_id=targetId,
        since=_moment("since", since),
        until=_moment("until", until),
    )
    page = services.audit.list(actor, query, after=after, before=before, limit=limit)
    return AuditList(
        values=[event_out(row) for row in page.values],
        pagination=wire.Pagination(after=page.after, before=page.before),
    )
