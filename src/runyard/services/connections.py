"""Data connections: create, read, list, edit, delete, and resolve for a run.

Secret fields are sealed by `SecretBox` before they reach a session, one token per field,
and opened only by `resolve_for_run`, which the worker calls and no adapter exposes. Every
other answer carries the non-secret details alone.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from runyard.auth.secrets import SecretBox, SecretsUnreadable
from runyard.domain import connections as domain
from runyard.domain.connections import QUERYABLE, ConnectionType, ParsedDetails, SharingAccess
from runyard.domain.permissions import (
    Action,
    Actor,
    Role,
    TokenType,
    is_workspace_member,
    may_query_connection,
    may_see_connection,
    sees_connection_details,
    sees_every_connection,
)
from runyard.errors import BadRequest, NotFound
from runyard.services import keyset
from runyard.services.audit import AuditLog
from runyard.services.projects import require
from runyard.store import connections as store
from runyard.store import groups as groups_store
from runyard.store import identity as identity_store
from runyard.store import sql_cache as sql_cache_store
from runyard.store.collections import Viewer
from runyard.store.connections import DataConnectionGroupAccessRow, DataConnectionRow, GroupGrant
from runyard.store.db import Database
from runyard.store.groups import GroupMemberRow

log = logging.getLogger(__name__)

# Who may do what with a new connection unless the request says otherwise: members may query
# it (the reason to add a connection), guests and the public may not.
DEFAULT_WORKSPACE_SHARING = {
    "public": SharingAccess.NONE.value,
    "guests": SharingAccess.NONE.value,
    "members": SharingAccess.QUERY.value,
}


# Hex does not say how long its SQL cache keeps results; a few minutes spares a warehouse the
# same query from every viewer who opens an app, without showing numbers from yesterday.
DEFAULT_SQL_CACHE_LIFETIME_SECONDS = 300


@dataclass(frozen=True)
class ConnectionView:
    row: DataConnectionRow
    grants: list[GroupGrant] = field(default_factory=list)
    # False for someone it is merely shared with: they get its id, name and type alone.
    full: bool = True

    @property
    def type(self) -> ConnectionType:
        return ConnectionType(self.row.type)

    @property
    def readable_details(self) -> dict[str, Any]:
        """The details a response may show: the type's non-secret fields, as stored."""
        stored = self.row.details
        return {name: stored.get(name) for name in domain.readable_fields(self.type)}


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything about a connection but its type and details, as a create gives it."""

    description: str | None = None
    connect_via_ssh: bool = False
    include_magic: bool = False
    allow_writeback_cells: bool = False
    schema_filters: dict[str, Any] | None = None
    schema_refresh_schedule: dict[str, Any] | None = None
    schema_refresh_access: str = "ADMINS"
    # How long SQL cells' results on it are reused, in seconds; 0: never kept.
    sql_cache_lifetime_seconds: int = DEFAULT_SQL_CACHE_LIFETIME_SECONDS
    workspace_sharing: Mapping[str, str] = field(default_factory=dict)
    group_sharing: Sequence[tuple[str, str]] = ()


# The plain settings PATCH may change, by their name in `changes` and on the row.
_PLAIN_CHANGES = (
    "name",
    "description",
    "connect_via_ssh",
    "include_magic",
    "allow_writeback_cells",
    "schema_filters",
    "schema_refresh_schedule",
    "schema_refresh_access",
    "sql_cache_lifetime_seconds",
)


class ConnectionService:
    def __init__(self, db: Database, box: SecretBox, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._box = box
        self._clock = clock

    # -- reads ---------------------------------------------------------------------------

    def get(self, actor: Actor, connection_id: str) -> ConnectionView:
        """The connection, if it is shared with the actor; otherwise it is missing (404)."""
        require(actor, Action.READ_CONNECTIONS)
        with self._db.read() as session:
            row = self._row(session, connection_id)
            shared = may_see_connection(
                actor,
                members=row.members_access,
                guests=row.guests_access,
                group_grants=store.group_grants_of_user(session, row.id, actor.user_id),
            )
            if not shared:
                raise NotFound("data connection", connection_id)
            view = self._view(session, row)
            return replace(view, full=sees_connection_details(actor))

    def list(
        self,
        actor: Actor,
        *,
        sort_by: str = "NAME",
        descending: bool = False,
        after: str | None = None,
        before: str | None = None,
        limit: int = 25,
    ) -> keyset.Page[ConnectionView]:
        """The connections shared with the actor (every one, for an admin)."""
        require(actor, Action.READ_CONNECTIONS)
        full = sees_connection_details(actor)
        viewer = None if sees_every_connection(actor.role) else viewer_of_connections(actor)
        with self._db.read() as session:

            def fetch(start: keyset.Key | None, desc: bool, n: int) -> list[_Keyed]:
                found = store.list_connections(
                    session,
                    viewer=viewer,
                    sort_by=sort_by,
                    descending=desc,
                    after=_sort_value(sort_by, start) if start else None,
                    limit=n,
                )
                return [_Keyed(row, _cursor_text(value)) for row, value in found]

            page = keyset.page(
                fetch,
                lambda keyed: (keyed.sort_text, keyed.row.id),
                descending=descending,
                after=after,
                before=before,
                limit=limit,
            )
            grants = store.group_grants(session, [k.row.id for k in page.values])
            views = [ConnectionView(k.row, grants[k.row.id], full) for k in page.values]
        return keyset.Page(values=views, after=page.after, before=page.before)

    def resolve_for_run(self, connection_id: str) -> dict[str, Any]:
        """The connection with its secrets decrypted, for the worker that runs a SQL cell.

        Never call this from an adapter: its answer is the one place secrets exist in clear.
        Raises NotFound, or SecretsUnreadable when the server key has changed since the
        secrets were entered.
        """
        with self._db.read() as session:
            row = self._row(session, connection_id)
            details = dict(row.details)
            what = f"data connection {row.id}"
            for name, token in row.secrets.items():
                details[name] = self._box.open(token, what=what)
            return {"id": row.id, "name": row.name, "type": row.type, "details": details}

    def resolve_for_sql_cell(self, reference: str, user_id: str | None) -> dict[str, Any]:
        """`resolve_for_run` for the connection a SQL cell names (by id, else by name), if
        `user_id` (the run's requester) may query it.

        Raises ConnectionUnavailable, whose message says why and names no secret. Like
        `resolve_for_run`, only the worker calls this.
        """
        with self._db.read() as session:
            row = store.get_connection(session, reference)
            if row is None:
                named = session.scalars(
                    select(DataConnectionRow).where(DataConnectionRow.name == reference).limit(2)
                ).all()
                if len(named) > 1:
                    raise ConnectionUnavailable(
                        f"several data connections are named {reference!r}: name it by id"
                    )
                row = named[0] if named else None
            if row is None:
                raise ConnectionUnavailable(f"no data connection {reference!r}")
            if ConnectionType(row.type) not in QUERYABLE:
                raise ConnectionUnavailable(
                    f"data connection {reference!r} is of type {row.type}, which SQL cells"
                    " cannot query"
                )
            if not requester_may_query(session, row, user_id):
                raise ConnectionUnavailable(
                    f"the run's requester may not query data connection {reference!r}"
                    " (it needs QUERY access)"
                )
            connection_id = row.id
        try:
            return self.resolve_for_run(connection_id)
        except SecretsUnreadable as exc:
            raise ConnectionUnavailable(str(exc)) from None
        except NotFound:
            raise ConnectionUnavailable(f"no data connection {reference!r}") from None

    # -- writes --------------------------------------------------------------------------

    def create(
        self,
        actor: Actor,
        *,
        name: str,
        kind: str,
        connection_details: Any,
        settings: ConnectionSettings,
    ) -> ConnectionView:
        require(actor, Action.MANAGE_CONNECTIONS)
        connection_type = _connection_type(kind)
        parsed = domain.parse_details(connection_type, connection_details, partial=False)
        name = _name(name)
        sharing = {**DEFAULT_WORKSPACE_SHARING, **settings.workspace_sharing}
        now = self._clock()
        with self._db.write() as session:
            _check_groups(session, settings.group_sharing)
            row = DataConnectionRow(
                id=str(uuid.uuid4()),
                name=name,
                type=connection_type.value,
                description=settings.description,
                details=parsed.public,
                secrets=self._sealed({}, parsed),
                connect_via_ssh=settings.connect_via_ssh,
                include_magic=settings.include_magic,
                allow_writeback_cells=settings.allow_writeback_cells,
                schema_filters=settings.schema_filters,
                schema_refresh_schedule=settings.schema_refresh_schedule,
                schema_refresh_access=settings.schema_refresh_access,
                sql_cache_lifetime_seconds=settings.sql_cache_lifetime_seconds,
                public_access=sharing["public"],
                guests_access=sharing["guests"],
                members_access=sharing["members"],
                created_by=actor.user_id,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            for group_id, access in settings.group_sharing:
                store.set_group_access(session, row.id, group_id, access)
            session.flush()
            AuditLog.record(
                session,
                actor,
                "connection.create",
                "connection",
                row.id,
                {"name": row.name, "type": row.type},
                at=now,
            )
            log.info("data connection %s (%s) created by %s", row.id, row.type, actor.user_id)
            return self._view(session, row)

    def update(
        self, actor: Actor, connection_id: str, changes: Mapping[str, Any]
    ) -> ConnectionView:
        """Apply the changes given; absent keys keep their values.

        Keys: those of `_PLAIN_CHANGES`, `type`, `connection_details` (partial, unless the
        type changes), `workspace_sharing` (a mapping of the levels given) and `group_sharing`
        (`(group id, access)` pairs to upsert; NONE removes a grant).
        """
        require(actor, Action.MANAGE_CONNECTIONS)
        with self._db.write() as session:
            row = self._row(session, connection_id)
            self._apply_details(row, changes)
            if "type" in changes or "connection_details" in changes:
                # Results of the old database (or the old credentials') must not answer
                # queries on the new one.
                sql_cache_store.forget_connection(session, row.id)
            for key in _PLAIN_CHANGES:
                if key in changes:
                    value = _name(changes[key]) if key == "name" else changes[key]
                    setattr(row, key, value)
            for level, access in (changes.get("workspace_sharing") or {}).items():
                setattr(row, f"{level}_access", access)
            group_sharing = changes.get("group_sharing") or ()
            _check_groups(session, group_sharing)
            for group_id, access in group_sharing:
                store.set_group_access(session, row.id, group_id, access)
            row.updated_at = self._clock()
            session.flush()
            # Field names only: `connection_details` may hold secrets, so not even its keys.
            AuditLog.record(
                session,
                actor,
                "connection.update",
                "connection",
                row.id,
                {"name": row.name, "type": row.type, "fields": sorted(changes)},
                at=row.updated_at,
            )
            log.info("data connection %s edited by %s", row.id, actor.user_id)
            return self._view(session, row)

    def delete(self, actor: Actor, connection_id: str) -> None:
        require(actor, Action.MANAGE_CONNECTIONS)
        with self._db.write() as session:
            row = self._row(session, connection_id)
            facts = {"name": row.name, "type": row.type}
            sql_cache_store.forget_connection(session, row.id)
            store.delete_connection(session, row)
            AuditLog.record(
                session,
                actor,
                "connection.delete",
                "connection",
                connection_id,
                facts,
                at=self._clock(),
            )
        log.info("data connection %s deleted by %s", connection_id, actor.user_id)

    # -- helpers -------------------------------------------------------------------------

    def _apply_details(self, row: DataConnectionRow, changes: Mapping[str, Any]) -> None:
        """1. A new type replaces the details and secrets wholesale, so it needs a complete
        set of the new type's details.
        2. Otherwise given details merge into the stored ones; an omitted secret keeps its
        sealed value, a null one (where allowed) is removed."""
        current = ConnectionType(row.type)
        kind = _connection_type(changes["type"]) if "type" in changes else current
        envelope = changes.get("connection_details")
        if kind is not current:
            if envelope is None:
                raise BadRequest(
                    "connectionDetails: changing the type needs the new type's details",
                    issues=["connectionDetails: required when the type changes"],
                )
            parsed = domain.parse_details(kind, envelope, partial=False)
            row.type = kind.value
            row.details = parsed.public
            row.secrets = self._sealed({}, parsed)
        elif envelope is not None:
            parsed = domain.parse_details(kind, envelope, partial=True)
            # New dicts, not in-place edits: the ORM notices a JSON column change by identity.
            row.details = {**row.details, **parsed.public}
            row.secrets = self._sealed(row.secrets, parsed)

    def _sealed(self, stored: Mapping[str, str], parsed: ParsedDetails) -> dict[str, str]:
        sealed = dict(stored)
        for name, value in parsed.secrets.items():
            if value is None:
                sealed.pop(name, None)
            else:
                sealed[name] = self._box.seal(value)
        return sealed

    def _row(self, session: Session, connection_id: str) -> DataConnectionRow:
        row = store.get_connection(session, connection_id)
        if row is None:
            raise NotFound("data connection", connection_id)
        return row

    def _view(self, session: Session, row: DataConnectionRow) -> ConnectionView:
        return ConnectionView(row, store.group_grants(session, [row.id])[row.id])


def requester_may_query(session: Session, row: DataConnectionRow, user_id: str | None) -> bool:
    """Whether `user_id`, a run's requester, may query the connection now: an active user
    with QUERY through their seat's workspace grant or a group's (admins always may)."""
    user = None if user_id is None else identity_store.get_user(session, user_id)
    if user is None or user.deactivated_at is not None:
        return False
    requester = Actor(
        user_id=user.id,
        email=user.email,
        role=Role(user.role),
        token_id=None,
        token_type=TokenType.PERSONAL,
    )
    group_access = session.scalars(
        select(DataConnectionGroupAccessRow.access)
        .join(GroupMemberRow, GroupMemberRow.group_id == DataConnectionGroupAccessRow.group_id)
        .where(
            DataConnectionGroupAccessRow.connection_id == row.id,
            GroupMemberRow.user_id == user.id,
        )
    ).all()
    return may_query_connection(
        requester,
        members=row.members_access,
        guests=row.guests_access,
        group_access=list(group_access),
    )


class ConnectionUnavailable(Exception):
    """A SQL cell's connection cannot be used for a run: missing, not queryable, not
    shared with the requester for querying, or its secrets are unreadable."""


@dataclass(frozen=True)
class _Keyed:
    row: DataConnectionRow
    sort_text: str


def _connection_type(value: str) -> ConnectionType:
    try:
        return ConnectionType(value)
    except ValueError:
        pass
    choices = ", ".join(kind.value for kind in ConnectionType)
    raise BadRequest("type: unknown data connection type", issues=[f"type: one of {choices}"])


def _name(value: Any) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        raise BadRequest("name: must not be empty", issues=["name: must not be empty"])
    return name


def _check_groups(session: Session, grants: Sequence[tuple[str, str]]) -> None:
    wanted = [group_id for group_id, _access in grants]
    missing = sorted(set(wanted) - groups_store.existing_groups(session, wanted))
    if missing:
        raise NotFound("group", missing[0])


def _cursor_text(value: Any) -> str:
    # The keyset's sort value as the database computed it (lower() differs between SQLite and
    # Python for non-ASCII names), in text form for the cursor.
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _sort_value(sort_by: str, key: keyset.Key) -> tuple[Any, str]:
    text, ident = key
    if sort_by != "CREATED_AT":
        return text, ident
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is not None:
        return moment, ident
    raise BadRequest("Invalid pagination cursor for sortBy=CREATED_AT")


def viewer_of_connections(actor: Actor) -> Viewer:
    return Viewer(user_id=actor.user_id, workspace_member=is_workspace_member(actor.role))
