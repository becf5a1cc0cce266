"""Migration 0009 (schedule notifications): schedules that existed notify no one."""

from __future__ import annotations

import sqlalchemy as sa
from tests.store.old_rows import OLD, insert_owner_and_project

from runyard.store.db import Database, make_engine, upgrade
from runyard.store.schedules import ScheduleRow


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
