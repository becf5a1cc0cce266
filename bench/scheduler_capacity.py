"""Scheduler capacity with 10,000 enabled schedules (mixed cadences and zones), on SQLite and
on PostgreSQL.

For each store it prints the wall and CPU time of a tick that finds nothing due, of a tick
that fires 1,000 due slots, and the p50/p99 lateness of 1,000 slots spread over ten seconds
and fired by the real scheduler loop. The baseline, measured in the same run on the same
data, is the design Runyard avoids: a tick that loads every schedule and asks its cadence
whether a slot is due (cost grows with all schedules, not with the due ones).

    .venv/bin/python bench/scheduler_capacity.py [--schedules 10000] [--due 1000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from figures import Figure, record
from runyard.app import build_scheduler
from runyard.config import Settings
from runyard.domain import cadence as cadences
from runyard.scheduler.loop import Scheduler
from runyard.services.schedules import cadence_of
from runyard.store.db import Database, upgrade
from runyard.store.identity import UserRow
from runyard.store.projects import ProjectRow, ProjectVersionRow
from runyard.store.runs import RunRow
from runyard.store.schedules import ScheduleRow

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "+08:00",
]
CADENCES: list[dict[str, object]] = [
    {"cadence": "HOURLY", "minute": 7},
    {"cadence": "DAILY", "hour": 6, "minute": 30},
    {"cadence": "WEEKLY", "day_of_week": "MONDAY", "hour": 9, "minute": 0},
    {"cadence": "MONTHLY", "day": 1, "hour": 3, "minute": 15},
    {"cadence": "CUSTOM", "cron": "*/15 9-17 * * MON-FRI"},
]


def timed(action: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def seed(db: Database, total: int, now: datetime) -> tuple[str, list[str]]:
    """Insert `total` schedules whose next slots lie in the future; return the project and
    the schedule ids."""
    ids = []
    with db.write() as s:
        user = UserRow(id=str(uuid.uuid4()), email="bench@x.test", role="ADMIN", created_at=now)
        s.add(user)
        s.flush()
        project = ProjectRow(
            id=str(uuid.uuid4()),
            title="bench",
            type="PROJECT",
            creator_id=user.id,
            owner_id=user.id,
            created_at=now,
            last_edited_at=now,
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
                published_at=now,
                published_by=user.id,
            )
        )
        rows = []
        for index in range(total):
            shape = dict(CADENCES[index % len(CADENCES)])
            row = ScheduleRow(
                id=str(uuid.uuid4()),
                project_id=project.id,
                cadence=str(shape.pop("cadence")),
                timezone=ZONES[index % len(ZONES)],
                enabled=True,
                input_params={},
                catch_up="latest",
                overlap="allow",
                created_by=user.id,
                created_at=now,
                updated_at=now,
                **shape,
            )  # type: ignore[arg-type]
            # Park every schedule far in the future; the bench makes chosen ones due.
            row.next_fire_at = now + timedelta(days=3650)
            rows.append(row)
            ids.append(row.id)
        s.add_all(rows)
    return project.id, ids


def make_due(db: Database, ids: list[str], slots: list[datetime]) -> None:
    with db.write() as s:
        for schedule_id, slot in zip(ids, slots, strict=True):
            s.execute(
                sa.update(ScheduleRow)
                .where(ScheduleRow.id == schedule_id)
                .values(next_fire_at=slot)
            )


def drain(scheduler: Scheduler, now: datetime) -> None:
    """Tick again at once while a tick finds work, as the loop does (batches of 500)."""
    while scheduler.tick(now):
        pass


def naive_tick(db: Database, now: datetime) -> int:
    """The baseline: every schedule loaded, every cadence asked."""
    due = 0
    with db.read() as s:
        for row in s.scalars(sa.select(ScheduleRow).where(ScheduleRow.enabled.is_(True))):
            last = cadences.last_fire_at_or_before(cadence_of(row), now)
            due += last > (row.last_slot_at or row.created_at)
    return due


def lateness_of_loop(scheduler: Scheduler, db: Database, ids: list[str], count: int) -> list[float]:
    start = datetime.now(UTC) + timedelta(seconds=2)
    slots = [start + timedelta(milliseconds=10 * i) for i in range(count)]
    make_due(db, ids[:count], slots)
    stopping = threading.Event()
    loop = threading.Thread(target=scheduler.run_forever, args=(stopping, 1.0), daemon=True)
    loop.start()
    time.sleep((slots[-1] - datetime.now(UTC)).total_seconds() + 2)
    stopping.set()
    loop.join()
    with db.read() as s:
        fired = list(
            s.scalars(
                sa.select(RunRow.lateness_ms).where(
                    RunRow.schedule_id.in_(ids[:count]), RunRow.scheduled_for >= start
                )
            )
        )
    if len(fired) != count:
        raise SystemExit(f"expected {count} fires, saw {len(fired)}")
    return [float(ms) for ms in fired]


@contextmanager
def sqlite_store() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def postgres_store() -> Iterator[str]:
    name = f"runyard_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench(label: str, url: str, total: int, due: int) -> None:
    upgrade(url)
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(database_url=url, home=Path(home), secret_key="bench")
        scheduler, db = build_scheduler(settings)
        now = datetime.now(UTC)
        _, ids = seed(db, total, now)
        idle_wall, idle_cpu = timed(lambda: scheduler.tick(now))
        naive_wall, naive_cpu = timed(lambda: naive_tick(db, now))
        slot = now - timedelta(seconds=1)
        make_due(db, ids[:due], [slot] * due)
        fire_wall, fire_cpu = timed(lambda: drain(scheduler, now))
        # Park the schedules just fired again, so their next real slots (some within
        # minutes) do not land in the lateness measurement below.
        make_due(db, ids[:due], [now + timedelta(days=3650)] * due)
        lateness = lateness_of_loop(scheduler, db, ids[due:], due)
        db.dispose()
    q = statistics.quantiles(lateness, n=100)

    def row(name: str, wall: float, cpu: float, note: str = "") -> str:
        return f"  {name:<25}{wall * 1000:8.1f} ms wall {cpu * 1000:8.1f} ms CPU{note}"

    print(f"\n{label}: {total:,} enabled schedules")
    print(row("tick, nothing due", idle_wall, idle_cpu))
    print(
        row(
            "baseline full-scan tick",
            naive_wall,
            naive_cpu,
            f"  ({naive_wall / idle_wall:,.0f}x the indexed tick)",
        )
    )
    print(
        row(
            f"ticks firing {due:,} slots",
            fire_wall,
            fire_cpu,
            f"  ({fire_wall / due * 1000:.2f} ms per fire)",
        )
    )
    print(
        f"  lateness of {due:,} fires by the loop: p50 {q[49]:.0f} ms, p99 {q[98]:.0f} ms,"
        f" max {max(lateness):.0f} ms"
    )
    record(
        Figure(
            key="",
            what=f"scheduler tick, {total:,} schedules, nothing due, {label}",
            value=idle_wall * 1000,
            unit="ms",
            baseline=naive_wall * 1000,
            baseline_what="full-scan tick",
        )
    )
    record(
        Figure(
            key="",
            what=f"scheduler fire lateness p99, {due:,} due at once, {label}",
            value=q[98],
            unit="ms",
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1_000)
    args = parser.parse_args()
    with sqlite_store() as url:
        bench("SQLite", url, args.schedules, args.due)
    try:
        with postgres_store() as url:
            bench("PostgreSQL", url, args.schedules, args.due)
    except sa.exc.OperationalError as error:
        print(f"\nPostgreSQL skipped: not reachable at {PG_ADMIN} ({error.orig})")


if __name__ == "__main__":
    main()
