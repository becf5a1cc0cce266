"""The audit log: who changed what in the workspace, and who triggered or cancelled a run.

`AuditLog.record` is called by each service inside the write transaction of the change it
describes, so a change that rolls back leaves no audit row, and a recorded change happened.
`details` carries non-secret facts only (changed field names, a connection's name and type,
a token's type, scopes and expiry); callers never pass a secret, a hash or a secret's value.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from runyard.domain.permissions import Action, Actor
from runyard.errors import BadRequest
from runyard.services import keyset
from runyard.services.projects import require
from runyard.store import audit as store
from runyard.store.audit import AuditEventRow, AuditFilter
from runyard.store.db import Database
from runyard.tracing import request_trace_id


def _time_ordered_id() -> str:
    """A UUIDv7-shaped id: events recorded in the same microsecond still sort by creation."""
    millis = time.time_ns() // 1_000_000
    raw = bytearray(millis.to_bytes(6, "big") + os.urandom(10))
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


@dataclass(frozen=True)
class AuditQuery:
    action_prefix: str | None = None
    actor_user_id: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def record(
        session: Session,
        actor: Actor | None,
        action: str,
        target_type: str,
        target_id: str,
        details: Mapping[str, Any] | None = None,
        trace_id: str | None = None,
        *,
        at: datetime,
    ) -> None:
        """Add one event to the session's transaction (the caller commits or rolls back)."""
        store.add_event(
            session,
            AuditEventRow(
                id=_time_ordered_id(),
                at=at,
                action=action,
                actor_user_id=actor.user_id if actor else None,
                actor_email=actor.email if actor else None,
                actor_token_id=actor.token_id if actor else None,
                target_type=target_type,
                target_id=target_id,
                details=dict(details or {}),
                trace_id=trace_id or request_trace_id(),
            ),
        )

    def list(
        self,
        actor: Actor,
        query: AuditQuery,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int = 50,
    ) -> keyset.Page[AuditEventRow]:
        """Events newest first. Admins only: a workspace token also needs its user to be one."""
        require(actor, Action.READ_AUDIT)
        if query.since and query.until and query.since >= query.until:
            raise BadRequest("since: must be before until")
        flt = AuditFilter(
            action_prefix=query.action_prefix,
            actor_user_id=query.actor_user_id,
            target_type=query.target_type,
            target_id=query.target_id,
            since=query.since,
            until=query.until,
        )
        with self._db.read() as session:

            def fetch(start: keyset.Key | None, down: bool, n: int) -> list[AuditEventRow]:
                key = (_moment(start[0]), start[1]) if start else None
                return store.list_events(session, flt, after=key, descending=down, limit=n)

            return keyset.page(
                fetch,
                lambda row: (row.at.isoformat(), row.id),
                descending=True,
                after=after,
                before=before,
                limit=limit,
            )


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise BadRequest("Invalid pagination cursor") from error
    if moment.tzinfo is None:
        raise BadRequest("Invalid pagination cursor")
    return moment
