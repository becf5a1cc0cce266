"""Compare-and-set run transitions and the exactly-once slot constraint, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from runyard.domain.run_status import RunStatus
from runyard.store import runs as run_store
from runyard.store.db import Database
from runyard.store.identity import UserRow
from runyard.store.projects import ProjectRow, ProjectVersionRow
from runyard.store.runs import RunRow

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def project_id(db: Database) -> str:
    user_id, project_id = str(uuid.uuid4()), str(uuid.uuid4())
    with db.write() as s:
        s.add(UserRow(id=user_id, email=f"{user_id}@x.test", role="ADMIN", created_at=NOW))
        s.flush()
        s.add(
            ProjectRow(
                id=project_id,
                title="p",
                type="PROJECT",
                creator_id=user_id,
                owner_id=user_id,
                created_at=NOW,
                last_edited_at=NOW,
                latest_version=1,
            )
        )
        s.flush()
        s.add(
            ProjectVersionRow(
                project_id=project_id,
                version=1,
                notebook={},
                parameters=[],
                published_at=NOW,
                published_by=user_id,
            )
        )
    return project_id


def new_run(project_id: str, **values: object) -> RunRow:
    fields: dict[str, object] = dict(
        id=str(uuid.uuid4()),
        project_id=project_id,
        project_version=1,
        status=RunStatus.PENDING.value,
        trigger="API",
        input_params={},
        options={},
        trace_id="t",
        timeout_seconds=60.0,
        created_at=NOW,
        rung_at=NOW,
        cancel_requested=False,
    )
    fields.update(values)
    return RunRow(**fields)


def test_only_one_of_two_claims_of_a_pending_run_wins(db: Database, project_id: str) -> None:
    run = new_run(project_id)
    with db.write() as s:
        s.add(run)
    with db.write() as s:
        first = run_store.transition(s, run.id, RunStatus.RUNNING, worker="a")
    with db.write() as s:
        second = run_store.transition(s, run.id, RunStatus.RUNNING, worker="b")
    assert (first, second) == (True, False)
    with db.read() as s:
        stored = run_store.get_run(s, run.id)
    assert stored is not None and stored.worker == "a"


def test_a_finished_run_cannot_move_again(db: Database, project_id: str) -> None:
    run = new_run(project_id, status=RunStatus.COMPLETED.value)
    with db.write() as s:
        s.add(run)
    with db.write() as s:
        assert not run_store.transition(s, run.id, RunStatus.KILLED)
        assert not run_store.transition(s, run.id, RunStatus.RUNNING)


def test_a_schedule_slot_can_hold_only_one_run(db: Database, project_id: str) -> None:
    schedule_id = str(uuid.uuid4())
    with db.write() as s:
        s.add(new_run(project_id, schedule_id=schedule_id, scheduled_for=NOW))
    with pytest.raises(IntegrityError), db.write() as s:
        s.add(new_run(project_id, schedule_id=schedule_id, scheduled_for=NOW))
    with db.write() as s:  # the next slot is a different row
        s.add(new_run(project_id, schedule_id=schedule_id, scheduled_for=NOW + timedelta(hours=1)))


def test_api_runs_without_a_slot_never_collide(db: Database, project_id: str) -> None:
    with db.write() as s:
        s.add(new_run(project_id))
        s.add(new_run(project_id))


def test_a_lease_is_renewed_only_by_its_owner(db: Database, project_id: str) -> None:
    run = new_run(
        project_id,
        status=RunStatus.RUNNING.value,
        worker="a",
        lease_until=NOW + timedelta(seconds=30),
    )
    with db.write() as s:
        s.add(run)
    later = NOW + timedelta(minutes=1)
    with db.write() as s:
        assert run_store.renew_lease(s, run.id, "a", later)
        assert not run_store.renew_lease(s, run.id, "b", later)
    with db.read() as s:
        assert run_store.running_with_expired_lease(s, NOW + timedelta(seconds=59), 10) == []
        expired = run_store.running_with_expired_lease(s, later + timedelta(seconds=1), 10)
    assert [r.id for r in expired] == [run.id]


def test_timestamps_come_back_as_aware_utc(db: Database, project_id: str) -> None:
    run = new_run(project_id)
    with db.write() as s:
        s.add(run)
    with db.read() as s:
        stored = run_store.get_run(s, run.id)
    assert stored is not None and stored.created_at == NOW and stored.created_at.tzinfo == UTC


def run_values(project_id: str, schedule_id: str, slot: datetime) -> dict[str, object]:
    run = new_run(project_id, schedule_id=schedule_id, scheduled_for=slot)
    return {column.key: getattr(run, column.key) for column in RunRow.__table__.columns}


def test_slot_runs_go_in_in_bulk_and_a_fired_slot_is_never_inserted_twice(
    db: Database, project_id: str
) -> None:
    schedule_id = str(uuid.uuid4())
    slots = [NOW + timedelta(minutes=i) for i in range(1_200)]
    with db.write() as s:
        first = run_store.insert_slot_runs(
            s, [run_values(project_id, schedule_id, slot) for slot in slots[:700]]
        )
    with db.write() as s:
        second = run_store.insert_slot_runs(
            s, [run_values(project_id, schedule_id, slot) for slot in slots]
        )
    assert len(first) == 700
    assert len(second) == 500
    with db.read() as s:
        assert (
            len(
                run_store.list_runs(
                    s, project_id, statuses=None, triggers=None, limit=5_000, offset=0
                )
            )
            == 1_200
        )
