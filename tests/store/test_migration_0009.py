"""Migration 0009 (schedule notifications): schedules that existed notify no one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.conftest import PG_ADMIN_URL, _pg_available, service_missing
from tests.store.old_rows import OLD, insert_owner_and_project

from runyard.store.db import Database, make_engine, upgrade
from runyard.store.schedules import ScheduleRow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store with no schema at all, to migrate step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    problem = _pg_available()
    if problem is not None:
        service_missing(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {problem}")
    name = f"runyard_m0009_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def test_schedules_that_existed_get_empty_notifications(empty_url: str) -> None:
    url = empty_url
    upgrade(url, "0008")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            insert_owner_and_project(conn)
            conn.execute(
                sa.text(
                    "INSERT INTO schedules (id, project_id, cadence, timezone, minute, enabled, "
                    "input_params, catch_up, overlap, created_by, created_at, updated_at) "
                    "VALUES ('s1', 'p1', 'HOURLY', 'UTC', 0, TRUE, '{}', 'latest', 'allow', 'u1', "
                    f"{OLD}, {OLD})"
                )
            )
    finally:
        engine.dispose()
    upgrade(url)
    db = Database(url)
    try:
        with db.read() as session:
            row = session.get(ScheduleRow, "s1")
            assert row is not None
            assert (row.notifications, row.notification_recipients) == ([], [])
    finally:
        db.dispose()
