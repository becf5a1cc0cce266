"""Two real scheduler processes against one PostgreSQL database, walking a span that crosses
New York's spring-forward: every slot fires exactly once, none twice, none missed, and every
run of a schedule that notifies someone gets one notification plan."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from runyard.domain import cadence as cadences
from runyard.services.schedules import cadence_of
from runyard.store.db import Database
from runyard.store.identity import UserRow
from runyard.store.notifications import NotificationPlanRow
from runyard.store.projects import ProjectRow, ProjectVersionRow
from runyard.store.runs import RunRow
from runyard.store.schedules import ScheduleRow, SkippedSlotRow

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DRIVER = Path(__file__).with_name("drive_scheduler.py")
START = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)  # 01:00 EST; clocks jump at 07:00Z
END = datetime(2026, 3, 8, 8, 30, tzinfo=UTC)
ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
TO_SLACK = {"type": "FAILURE", "includeSuccessScreenshot": False, "slackChannelIds": ["C1"]}
SLACK_RECIPIENT = {
    "type": "FAILURE",
    "recipientType": "SLACK_CHANNEL",
    "includeSuccessScreenshot": False,
    "recipient": {"id": "C1", "name": "C1"},
}


def seed(url: str, schedules: int) -> None:
    db = Database(url)
    try:
        with db.write() as s:
            user = UserRow(
                id=str(uuid.uuid4()), email="sched@x.test", role="ADMIN", created_at=START
            )
            s.add(user)
            s.flush()
            project = ProjectRow(
                id=str(uuid.uuid4()),
                title="p",
                type="PROJECT",
                creator_id=user.id,
                owner_id=user.id,
                created_at=START,
                last_edited_at=START,
                latest_version=1,
            )
            s.add(project)
            s.flush()
            s.add(
                ProjectVersionRow(
                    project_id=project.id,
                    version=1,
                    notebook={},
                    parameters=[],
                    published_at=START,
                    published_by=user.id,
                )
            )
            for index in range(schedules):
                zone = ZONES[index % len(ZONES)]
                kind, fields = (
                    ("CUSTOM", {"cron": "* * * * *"})
                    if index % 3
                    else ("HOURLY", {"minute": index % 60})
                    if index % 2
                    else ("CUSTOM", {"cron": "*/5 1-3 * * *"})
                )
                row = ScheduleRow(
                    id=str(uuid.uuid4()),
                    project_id=project.id,
                    cadence=kind,
                    timezone=zone,
                    enabled=True,
                    input_params={},
                    catch_up="all",
                    overlap="allow",
                    notifications=[TO_SLACK] if index % 4 == 0 else [],
                    notification_recipients=[SLACK_RECIPIENT] if index % 4 == 0 else [],
                    created_by=user.id,
                    created_at=START,
                    updated_at=START,
                    **fields,
                )
                row.next_fire_at = cadences.next_fire_after(cadence_of(row), START)
                s.add(row)
    finally:
        db.dispose()


def test_two_scheduler_processes_fire_every_slot_exactly_once(postgres_server_url: str) -> None:
    url = postgres_server_url
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "TRUNCATE runs, schedule_skipped_slots, schedules, project_versions,"
                " projects, api_tokens, users CASCADE"
            )
        )
    engine.dispose()
    seed(url, schedules=60)
    processes = [
        subprocess.Popen(
            [sys.executable, str(DRIVER), url, START.isoformat(), END.isoformat(), str(step)]
        )
        for step in (20, 30)
    ]
    for process in processes:
        assert process.wait(timeout=600) == 0

    db = Database(url)
    try:
        with db.read() as s:
            schedules = list(s.scalars(sa.select(ScheduleRow)))
            fired = Counter(
                (run.schedule_id, run.scheduled_for) for run in s.scalars(sa.select(RunRow))
            )
            skipped = list(s.scalars(sa.select(SkippedSlotRow)))
            notifying = {row.id for row in schedules if row.notifications}
            runs_to_notify = sorted(
                run.id for run in s.scalars(sa.select(RunRow)) if run.schedule_id in notifying
            )
            planned = sorted(s.scalars(sa.select(NotificationPlanRow.run_id)))
    finally:
        db.dispose()
    expected = Counter(
        (row.id, slot)
        for row in schedules
        for slot in cadences.fires_between(cadence_of(row), START, END, 100_000)
    )
    assert sum(expected.values()) > 5_000
    assert [key for key, count in fired.items() if count > 1] == []
    assert set(fired) == set(expected)
    assert skipped == []
    assert runs_to_notify and planned == runs_to_notify
    assert all(row.next_fire_at and row.next_fire_at > END for row in schedules)
    lord_howe = [r for r in schedules if r.timezone == "Australia/Lord_Howe"]
    assert lord_howe  # a 30-minute DST zone took part
