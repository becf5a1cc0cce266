"""The scheduler loop sleeps until the next slot is due, not for a fixed interval."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.cast import AUTH, notebook, published_project

from runyard.app import Runtime, create_app
from runyard.store.runs import RunRow
from runyard.store.schedules import ScheduleRow


def test_an_idle_loop_wakes_for_the_next_due_slot(runtime: Runtime) -> None:
    api = TestClient(create_app(runtime, background=False), headers=AUTH)
    project_id = published_project(api, notebook("x = 1"))
    body: dict[str, Any] = {"cadence": "HOURLY", "hourly": {"timezone": "UTC", "minute": 0}}
    schedule_id = api.post(f"/api/v1/projects/{project_id}/schedules", json=body).json()["id"]
    slot = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    with runtime.db.write() as session:
        session.execute(
            sa.update(ScheduleRow).where(ScheduleRow.id == schedule_id).values(next_fire_at=slot)
        )
    stopping = threading.Event()
    # An idle interval far longer than the wait: only the loop's own wake-up can fire it.
    loop = threading.Thread(target=runtime.scheduler.run_forever, args=(stopping, 120.0))
    loop.start()
    try:
        deadline = time.monotonic() + 60
        fired: list[RunRow] = []
        while not fired and time.monotonic() < deadline:
            time.sleep(0.1)
            with runtime.db.read() as session:
                fired = list(
                    session.scalars(sa.select(RunRow).where(RunRow.schedule_id == schedule_id))
                )
    finally:
        stopping.set()
        loop.join()
    assert len(fired) == 1
    assert fired[0].scheduled_for == slot
    assert fired[0].lateness_ms is not None
    assert fired[0].lateness_ms < 60_000
