"""The SQL result cache: a SQL cell's result, kept per data connection under a digest of its
SQL text, bound values and row limit.

The result is the Parquet file the runner wrote, kept whole in `content`, so every worker
(on any machine) can reuse it. Bound values are not stored, only the digest they go into: a
parameter may be secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    delete,
    func,
    select,
    tuple_,
)
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Mapped, Session, mapped_column

from runyard.store.base import Base, UtcDateTime
from runyard.store.connections import DataConnectionRow


class SqlResultRow(Base):
    __tablename__ = "sql_results"

    # Deleting the connection deletes its results (and the service deletes them explicitly
    # too, whatever SQLite's foreign_keys pragma says).
    connection_id: Mapped[str] = mapped_column(
        ForeignKey("data_connections.id", ondelete="CASCADE"), primary_key=True
    )
    # sha256 (hex) of the SQL text, the bound values and the row limit (kernel/sql_cache.py).
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size_bytes: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    columns: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[bool] = mapped_column(Boolean)
    # When the query ran; its age decides reuse (the connection's lifetime) and pruning.
    queried_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


def get_result(session: Session, connection_id: str, key: str) -> SqlResultRow | None:
    return session.get(SqlResultRow, (connection_id, key))


def replace_result(session: Session, row: SqlResultRow) -> None:
    """Keep `row` in place of any result kept under its connection and key.

    A concurrent transaction keeping the same key may win the race: the flush then raises
    IntegrityError (the primary key), and the caller keeps the winner's equally fresh row.
    """
    session.execute(
        delete(SqlResultRow).where(
            SqlResultRow.connection_id == row.connection_id, SqlResultRow.key == row.key
        )
    )
    session.add(row)
    session.flush()


def forget_connection(session: Session, connection_id: str) -> int:
    """Delete every result kept for the connection; return how many went."""
    result = session.execute(
        delete(SqlResultRow).where(SqlResultRow.connection_id == connection_id)
    )
    return _deleted(result)


def lifetimes(session: Session) -> list[tuple[str, int]]:
    """(connection id, cache lifetime in seconds) of each connection with kept results."""
    query = (
        select(DataConnectionRow.id, DataConnectionRow.sql_cache_lifetime_seconds)
        .where(DataConnectionRow.id.in_(select(SqlResultRow.connection_id).distinct()))
        .order_by(DataConnectionRow.id)
    )
    return [(ident, lifetime) for ident, lifetime in session.execute(query)]


def delete_queried_before(session: Session, connection_id: str, cutoff: datetime) -> int:
    """Delete the connection's results queried before `cutoff`; return how many went."""
    result = session.execute(
        delete(SqlResultRow).where(
            SqlResultRow.connection_id == connection_id, SqlResultRow.queried_at < cutoff
        )
    )
    return _deleted(result)


def total_bytes(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(SqlResultRow.size_bytes), 0))) or 0)


def oldest_first(session: Session) -> list[tuple[str, str, int]]:
    """(connection id, key, size) of every kept result, the longest queried first."""
    query = select(SqlResultRow.connection_id, SqlResultRow.key, SqlResultRow.size_bytes).order_by(
        SqlResultRow.queried_at, SqlResultRow.connection_id, SqlResultRow.key
    )
    return [(connection_id, key, size) for connection_id, key, size in session.execute(query)]


def delete_results(session: Session, keys: Sequence[tuple[str, str]]) -> int:
    """Delete the results named by (connection id, key); return how many went."""
    if not keys:
        return 0
    pairs = tuple_(SqlResultRow.connection_id, SqlResultRow.key)
    result = session.execute(delete(SqlResultRow).where(pairs.in_(list(keys))))
    return _deleted(result)


def _deleted(result: Result[Any]) -> int:
    # DELETE statements always yield a CursorResult, which carries the matched row count.
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
