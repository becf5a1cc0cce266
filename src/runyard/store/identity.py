"""Users and API tokens."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    CursorResult,
    ForeignKey,
    String,
    event,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, sessionmaker

from runyard.errors import Conflict
from runyard.store.base import Base, UtcDateTime


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    deactivated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    # Only a keyed hash of the secret is kept; the secret is shown once, at creation.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    description: Mapped[str | None] = mapped_column(String(500))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


# The execution option that marks a write to users or tokens as bookkeeping (last used, last
# login) rather than a change of who may do what; `IdentityChanges` does not count it.
_BOOKKEEPING = "runyard_identity_bookkeeping"
_IDENTITY_TABLES = frozenset({"users", "api_tokens"})


class IdentityChanges:
    """Counts the committed changes to users and API tokens made through one database's
    sessions in this process: a revoked token, a deactivated user, a changed role.

    Whoever keeps what it read of them (the token verification cache of
    `services.identity`) notes `generation` before reading and trusts what it kept only
    while the count is unchanged. Every such change goes through a session of the store
    (ORM attribute changes, or UPDATE/DELETE statements), so none is missed; changes made
    by other processes are not seen here at all.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.generation = 0
        self._lock = threading.Lock()  # two commits at once must both move the count on
        event.listen(sessions, "before_flush", self._on_flush)
        event.listen(sessions, "do_orm_execute", self._on_execute)
        event.listen(sessions, "after_commit", self._on_commit)
        event.listen(sessions, "after_rollback", self._on_rollback)

    @staticmethod
    def _on_flush(session: Session, _context: Any, _instances: Any) -> None:
        # New rows change nobody's rights (a new token is simply not cached yet).
        changed = (*session.dirty, *session.deleted)
        if any(isinstance(row, UserRow | ApiTokenRow) for row in changed):
            session.info[_CHANGED] = True

    @staticmethod
    def _on_execute(state: ORMExecuteState) -> None:
        if not (state.is_update or state.is_delete):
            return
        if state.execution_options.get(_BOOKKEEPING):
            return
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _IDENTITY_TABLES:
            state.session.info[_CHANGED] = True

    def _on_commit(self, session: Session) -> None:
        # After the commit, not before: a reader that noted the old count and then read the
        # old rows keeps them under that count, which no longer matches.
        if session.info.pop(_CHANGED, False):
            with self._lock:
                self.generation += 1

    @staticmethod
    def _on_rollback(session: Session) -> None:
        session.info.pop(_CHANGED, None)


_CHANGED = "runyard_identity_changed"


def get_user(session: Session, user_id: str) -> UserRow | None:
    return session.get(UserRow, user_id)


def get_user_by_email(session: Session, email: str) -> UserRow | None:
    return session.scalars(select(UserRow).where(UserRow.email == email)).one_or_none()


def count_users(session: Session) -> int:
    return len(session.scalars(select(UserRow.id).limit(1)).all())


def token_by_hash(session: Session, token_hash: str) -> tuple[ApiTokenRow, UserRow] | None:
    row = session.execute(
        select(ApiTokenRow, UserRow)
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .where(ApiTokenRow.token_hash == token_hash)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def add(session: Session, row: Any) -> None:
    session.add(row)
    session.flush()


def add_user(session: Session, row: UserRow) -> None:
    """Insert a user; a taken email (a concurrent insert that won the race) is a Conflict."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as error:
        raise Conflict(f"A user with email {row.email} already exists") from error


def email_taken(session: Session, email: str) -> bool:
    found = session.scalars(
        select(UserRow.id).where(func.lower(UserRow.email) == email.lower()).limit(1)
    ).first()
    return found is not None


def lock_active_admins(session: Session) -> list[str]:
    """The ids of the active admins, locked until the transaction ends.

    Two admins demoting each other at once must not both see "another admin is left". On
    PostgreSQL the row locks make the second transaction wait and re-read; SQLite has no row
    locks (FOR UPDATE is not rendered), but its single writer serialises the two anyway.
    """
    query = (
        select(UserRow.id)
        .where(UserRow.role == "ADMIN", UserRow.deactivated_at.is_(None))
        .with_for_update()
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class UserFilter:
    user_ids: Sequence[str] | None = None  # restricts to these ids (userIds, group members)
    include_deactivated: bool = False


def _user_sort_key(sort_by: str) -> ColumnElement[str]:
    # Case-insensitive, and a user without a name sorts by the email shown in its place.
    # Ties (and the keyset) are broken by id.
    if sort_by == "EMAIL":
        return func.lower(UserRow.email)
    return func.lower(func.coalesce(UserRow.name, UserRow.email))


def list_users(
    session: Session,
    flt: UserFilter,
    *,
    sort_by: str,
    descending: bool,
    after: tuple[str, str] | None,
    limit: int,
) -> list[tuple[UserRow, str]]:
    """Keyset pagination on (sort key, id): stable under concurrent inserts.

    Each row comes with its sort key as the database computed it, for the cursor: SQLite's
    lower() folds only ASCII, so the key must not be recomputed in Python.
    """
    key = _user_sort_key(sort_by)
    query = select(UserRow, key)
    if not flt.include_deactivated:
        query = query.where(UserRow.deactivated_at.is_(None))
    if flt.user_ids is not None:
        query = query.where(UserRow.id.in_(list(flt.user_ids)))
    if after is not None:
        value, ident = after
        if descending:
            query = query.where(or_(key < value, (key == value) & (UserRow.id < ident)))
        else:
            query = query.where(or_(key > value, (key == value) & (UserRow.id > ident)))
    order = (key.desc(), UserRow.id.desc()) if descending else (key, UserRow.id)
    rows = session.execute(query.order_by(*order).limit(limit)).all()
    return [(row[0], str(row[1])) for row in rows]


def get_token(session: Session, token_id: str) -> tuple[ApiTokenRow, UserRow] | None:
    row = session.execute(
        select(ApiTokenRow, UserRow)
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .where(ApiTokenRow.id == token_id)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def list_tokens(
    session: Session,
    *,
    user_id: str | None,
    after: tuple[datetime, str] | None,
    descending: bool,
    limit: int,
) -> list[tuple[ApiTokenRow, UserRow]]:
    """Tokens newest first (keyset on created_at, id); only `user_id`'s when it is given."""
    query = select(ApiTokenRow, UserRow).join(UserRow, UserRow.id == ApiTokenRow.user_id)
    if user_id is not None:
        query = query.where(ApiTokenRow.user_id == user_id)
    if after is not None:
        moment, ident = after
        column = ApiTokenRow.created_at
        if descending:
            query = query.where(or_(column < moment, (column == moment) & (ApiTokenRow.id < ident)))
        else:
            query = query.where(or_(column > moment, (column == moment) & (ApiTokenRow.id > ident)))
    order = (
        (ApiTokenRow.created_at.desc(), ApiTokenRow.id.desc())
        if descending
        else (ApiTokenRow.created_at, ApiTokenRow.id)
    )
    rows = session.execute(query.order_by(*order).limit(limit)).all()
    return [(row[0], row[1]) for row in rows]


def touch_token(
    session: Session, token_id: str, user_id: str | None, now: datetime, stale_before: datetime
) -> bool:
    """Record that a token was used (and, with `user_id`, that its user logged in), unless
    that was already recorded since `stale_before`. The compare-and-set keeps concurrent
    requests with one token from all writing; returns whether this call wrote."""
    touched = session.execute(
        update(ApiTokenRow)
        .where(
            ApiTokenRow.id == token_id,
            or_(ApiTokenRow.last_used_at.is_(None), ApiTokenRow.last_used_at < stale_before),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False, **{_BOOKKEEPING: True})
    )
    # UPDATE statements always yield a CursorResult, which carries the matched row count.
    assert isinstance(touched, CursorResult)
    if touched.rowcount != 1:
        return False
    if user_id is not None:
        session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(last_login_at=now)
            .execution_options(synchronize_session=False, **{_BOOKKEEPING: True})
        )
    return True
