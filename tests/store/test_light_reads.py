"""The Core reads behind a run's status (`read_run`, `access_facts`, `poll_run`) give what
the ORM loads give, on both databases, and quick reads always see what was committed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text, update
from sqlalchemy.exc import DBAPIError

from runyard.store import projects as project_store
from runyard.store import run_polls
from runyard.store import runs as run_store
from runyard.store.db import Database
from runyard.store.identity import UserRow
from runyard.store.projects import ProjectAccessFacts, ProjectRow
from runyard.store.runs import RunRow

NOW = datetime(2026, 11, 28, 12, 0, 0, 123000, tzinfo=UTC)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def project_id(db: Database) -> str:
    user_id, project_id = str(uuid.uuid4()), str(uuid.uuid4())
    with db.write() as s:
        s.add(UserRow(id=user_id, email=f"{user_id}@x.test", role="EDITOR", created_at=NOW))
        s.flush()
        s.add(
            ProjectRow(
                id=project_id,
                title="p",
                type="PROJECT",
                creator_id=user_id,
                owner_id=user_id,
                draft_notebook={"cells": [{"source": "x = 1"}]},
                created_at=NOW,
                last_edited_at=NOW,
                workspace_access="CAN_VIEW",
            )
        )
    return project_id


def add_run(db: Database, project_id: str) -> str:
    run_id = str(uuid.uuid4())
    with db.write() as s:
        s.add(
            RunRow(
                id=run_id,
                project_id=project_id,
                project_version=3,
                status="ERRORED",
                trigger="SCHEDULE",
                input_params={"n": 2, "when": "2026-01-01", "nested": {"a": [1, None]}},
                options={"notificationRecipients": [{"type": "email"}]},
                requested_by=None,
                token_id=str(uuid.uuid4()),
                schedule_id=str(uuid.uuid4()),
                scheduled_for=NOW - timedelta(minutes=1),
                trace_id="f" * 32,
                timeout_seconds=12.5,
                created_at=NOW,
                started_at=NOW + timedelta(seconds=1),
                ended_at=NOW + timedelta(seconds=2),
                error={"message": "boom", "cellIndex": 1},
                worker="host:1",
                lease_until=NOW + timedelta(minutes=5),
                kernel_pid=4242,
                cancel_requested=True,
                rung_at=NOW,
                lateness_ms=60000,
            )
        )
    return run_id


def test_read_run_gives_every_column_as_the_orm_loads_it(db: Database, project_id: str) -> None:
    run_id = add_run(db, project_id)
    with db.read() as s:
        light = run_store.read_run(s, run_id)
    with db.read() as s:
        loaded = run_store.get_run(s, run_id)
    assert light is not None and loaded is not None
    columns = [c.key for c in inspect(RunRow).column_attrs]
    assert {c: getattr(light, c) for c in columns} == {c: getattr(loaded, c) for c in columns}
    assert light.created_at.tzinfo is UTC


def test_read_run_of_an_unknown_run_is_none(db: Database) -> None:
    with db.read() as s:
        assert run_store.read_run(s, str(uuid.uuid4())) is None


def test_access_facts_are_the_projects_owner_and_workspace_access(
    db: Database, project_id: str
) -> None:
    with db.read() as s:
        facts = project_store.access_facts(s, project_id)
        row = project_store.get_project(s, project_id)
    assert row is not None
    assert facts == ProjectAccessFacts(project_id, row.owner_id, "CAN_VIEW")
    with db.read() as s:
        assert project_store.access_facts(s, str(uuid.uuid4())) is None


def test_poll_run_gives_the_access_facts_and_the_runs_columns_as_the_orm_loads_them(
    db: Database, project_id: str
) -> None:
    run_id = add_run(db, project_id)
    with db.quick_read() as s:
        polled = run_polls.poll_run(s, project_id, run_id)
    with db.read() as s:
        loaded = run_store.get_run(s, run_id)
        facts = project_store.access_facts(s, project_id)
    assert polled is not None and polled.run is not None and loaded is not None
    assert polled.project == facts
    fields = polled.run.__slots__
    assert {f: getattr(polled.run, f) for f in fields} == {f: getattr(loaded, f) for f in fields}


def test_poll_run_tells_no_project_from_no_run(db: Database, project_id: str) -> None:
    run_id = add_run(db, project_id)
    with db.quick_read() as s:
        assert run_polls.poll_run(s, str(uuid.uuid4()), run_id) is None
        unknown = run_polls.poll_run(s, project_id, str(uuid.uuid4()))
    assert unknown is not None and unknown.run is None and unknown.project.id == project_id


def test_a_quick_read_sees_every_commit_at_once_and_outlives_a_failed_statement(
    db: Database, project_id: str
) -> None:
    run_id = add_run(db, project_id)
    for status in ("RUNNING", "COMPLETED", "KILLED"):
        with db.write() as s:
            s.execute(update(RunRow).where(RunRow.id == run_id).values(status=status))
        with db.quick_read() as s:
            polled = run_polls.poll_run(s, project_id, run_id)
        assert polled is not None and polled.run is not None
        assert polled.run.status == status
    with pytest.raises(DBAPIError), db.quick_read() as s:
        s.execute(text("SELECT * FROM no_such_table"))
    with db.quick_read() as s:
        polled = run_polls.poll_run(s, project_id, run_id)
    assert polled is not None and polled.run is not None and polled.run.status == "KILLED"
