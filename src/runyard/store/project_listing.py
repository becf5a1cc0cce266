"""Listing projects: filters, sort keys and keyset pagination (GET /projects, the web UI).

Apart from `projects` because it needs who may see a project (`project_sharing`), which
itself builds on `projects`' rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import Session

from runyard.store.base import UtcDateTime
from runyard.store.identity import UserRow
from runyard.store.project_sharing import visible_projects
from runyard.store.projects import ProjectFilter, ProjectRow

SORT_COLUMNS = {
    "CREATED_AT": ProjectRow.created_at,
    "LAST_EDITED_AT": ProjectRow.last_edited_at,
    "LAST_PUBLISHED_AT": ProjectRow.last_published_at,
}


def list_projects(
    session: Session,
    flt: ProjectFilter,
    *,
    sort_by: str,
    descending: bool,
    after: tuple[datetime | None, str] | None,
    limit: int,
) -> list[ProjectRow]:
    """Keyset pagination on (sort column, id): stable under concurrent inserts.

    NULL sort keys (never published) sort last in both directions: they are mapped to a
    sentinel through COALESCE so the keyset comparison stays a plain tuple comparison.
    """
    column = SORT_COLUMNS[sort_by]
    sentinel = func.coalesce(column, literal(_null_sentinel(descending), UtcDateTime()))
    query = select(ProjectRow)
    if not flt.include_archived:
        query = query.where(ProjectRow.archived_at.is_(None))
    if not flt.include_trashed:
        query = query.where(ProjectRow.trashed_at.is_(None))
    if not flt.include_components:
        query = query.where(ProjectRow.type == "PROJECT")
    if flt.statuses:
        query = query.where(ProjectRow.status_label.in_(list(flt.statuses)))
    if flt.creator_email:
        creators = select(UserRow.id).where(UserRow.email == flt.creator_email)
        query = query.where(ProjectRow.creator_id.in_(creators))
    if flt.owner_email:
        owners = select(UserRow.id).where(UserRow.email == flt.owner_email)
        query = query.where(ProjectRow.owner_id.in_(owners))
    if flt.project_ids is not None:
        query = query.where(ProjectRow.id.in_(list(flt.project_ids)))
    if flt.viewer is not None:
        query = query.where(visible_projects(flt.viewer))
    if after is not None:
        key = after[0] if after[0] is not None else _null_sentinel(descending)
        if descending:
            query = query.where(or_(sentinel < key, (sentinel == key) & (ProjectRow.id < after[1])))
        else:
            query = query.where(or_(sentinel > key, (sentinel == key) & (ProjectRow.id > after[1])))
    order = (sentinel.desc(), ProjectRow.id.desc()) if descending else (sentinel, ProjectRow.id)
    return list(session.scalars(query.order_by(*order).limit(limit)))


def _null_sentinel(descending: bool) -> datetime:
    # Oldest possible instant when newest-first (NULLs last), newest when oldest-first.
    return datetime(1, 1, 1, tzinfo=UTC) if descending else datetime(9999, 12, 31, tzinfo=UTC)
