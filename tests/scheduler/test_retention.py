"""Retention: the scheduler's upkeep deletes exactly the runs the policy names, with their
artifacts, a batch at a time, and leaves the artifacts of the runs it keeps intact; `runyard
runs prune --dry-run` lists the same runs and deletes nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.cast import notebook, published_project
from tests.conftest import BOOTSTRAP_TOKEN
from typer.testing import CliRunner

from runyard.app import Runtime, build_retention, create_app, scheduling_limits
from runyard.cli.main import app as cli
from runyard.config import Settings
from runyard.scheduler.loop import Scheduler
from runyard.services.scheduling import SchedulingService
from runyard.store import embedded_runs as embedded_store
from runyard.store import runs as run_store

# The present: `runyard runs prune` goes by the real clock, and must name the same runs.
NOW = datetime.now(UTC)


@pytest.fixture
def settings_values(settings_values: dict[str, Any]) -> dict[str, Any]:
    # A small policy, so that a handful of runs shows every rule: 30 days, the newest 3 per
    # project, deleted 2 per pass.
    return {
        **settings_values,
        "retention_days": 30,
        "retention_keep_last_runs": 3,
        "retention_batch_size": 2,
    }


def add_run(runtime: Runtime, project_id: str, age_days: float, status: str) -> str:
    """A run of `project_id` created `age_days` before NOW, with a notebook and a log."""
    run_id = str(uuid.uuid4())
    created = NOW - timedelta(days=age_days)
    with runtime.db.write() as session:
        session.add(
            run_store.RunRow(
                id=run_id,
                project_id=project_id,
                project_version=1,
                status=status,
                trigger="API",
                input_params={},
                options={},
                trace_id=uuid.uuid4().hex,
                timeout_seconds=60,
                created_at=created,
                started_at=created,
                ended_at=None if status in {"PENDING", "RUNNING"} else created,
                rung_at=created,
                cancel_requested=False,
            )
        )
        session.flush()
        run_store.add_event(session, run_id, "STATUS", status, created)
        for name in ("notebook", "log"):
            run_store.save_artifact(
                session, run_id, name, "text/plain", f"{name} of {run_id}".encode(), created
            )
    return run_id


def artifact_digests(runtime: Runtime) -> dict[tuple[str, str], str]:
    engine = sa.create_engine(runtime.settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT run_id, name, content FROM run_artifacts"))
            return {(r, n): hashlib.sha256(bytes(c)).hexdigest() for r, n, c in rows}
    finally:
        engine.dispose()


def run_ids(runtime: Runtime) -> set[str]:
    with runtime.db.read() as session:
        return set(session.scalars(sa.select(run_store.RunRow.id)))


def test_upkeep_prunes_exactly_the_runs_the_policy_names_and_keeps_the_rest_intact(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No background scheduler: this test ticks itself.
    with TestClient(
        create_app(runtime, background=False),
        headers={"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"},
    ) as client:
        alpha = published_project(client, notebook("x = 1"), title="Alpha")
        beta = published_project(client, notebook("x = 2"), title="Beta")

    # Alpha: 8 runs. The 3 newest are kept by count; of the 5 older ones, one is 10 days
    # old (kept by age), one is RUNNING and one is the published run (both kept whatever
    # their age): 2 go.
    newest = [add_run(runtime, alpha, age, "COMPLETED") for age in (1, 2, 3)]
    young = add_run(runtime, alpha, 10, "ERRORED")
    running = add_run(runtime, alpha, 60, "RUNNING")
    published = add_run(runtime, alpha, 70, "COMPLETED")
    alpha_old = [add_run(runtime, alpha, 80, "ERRORED"), add_run(runtime, alpha, 90, "KILLED")]
    # Beta: 3 runs, all old, all kept as its newest 3; then a 4th, older still, goes.
    beta_kept = [add_run(runtime, beta, age, "COMPLETED") for age in (100, 101, 102)]
    beta_old = add_run(runtime, beta, 200, "COMPLETED")
    with runtime.db.write() as session:
        session.execute(
            sa.text("UPDATE projects SET published_results_run_id = :run WHERE id = :id"),
            {"run": published, "id": alpha},
        )

    going = {*alpha_old, beta_old}
    kept = {*newest, young, running, published, *beta_kept}
    before = artifact_digests(runtime)

    monkeypatch.setenv("RUNYARD_DATABASE_URL", runtime.settings.resolved_database_url)
    monkeypatch.setenv("RUNYARD_HOME", str(runtime.settings.home))
    monkeypatch.setenv("RUNYARD_RETENTION_DAYS", "30")
    monkeypatch.setenv("RUNYARD_RETENTION_KEEP_LAST_RUNS", "3")
    dry = build_retention(Settings(), runtime.db).prunable(NOW, limit=100)
    assert {run.run_id for run in dry} == going
    listed = CliRunner().invoke(cli, ["runs", "prune", "--dry-run"], terminal_width=200)
    assert listed.exit_code == 0, listed.output
    # Against the real clock the same runs are old enough (NOW is in the past).
    assert f"{len(going)} run(s) would be deleted" in listed.output
    assert run_ids(runtime) == going | kept  # a dry run deletes nothing

    retention = build_retention(runtime.settings, runtime.db)
    scheduling = SchedulingService(
        runtime.db, lambda: NOW, scheduling_limits(runtime.settings), None, None
    )
    scheduler = Scheduler(scheduling, None, lambda: NOW, None, None, retention)
    # Batches of 2: the first pass is full (found work: go again at once), the second takes
    # the last one and lets the loop sleep.
    assert scheduler.tick(NOW) is True
    assert len(run_ids(runtime) & going) == 1
    assert scheduler.tick(NOW) is False
    assert run_ids(runtime) == kept

    after = artifact_digests(runtime)
    assert {run for run, _ in after} == kept
    assert after == {key: digest for key, digest in before.items() if key[0] in kept}
    with runtime.db.read() as session:
        events = set(session.scalars(sa.select(run_store.RunEventRow.run_id)))
    assert events == kept

    # A project's published run stays while it is published, and so does a running run.
    assert {published, running} <= run_ids(runtime)


def test_an_old_run_that_embedded_apps_shared_goes_with_the_row_that_names_it(
    runtime: Runtime,
) -> None:
    with TestClient(
        create_app(runtime, background=False),
        headers={"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"},
    ) as client:
        project = published_project(client, notebook("x = 1"), title="Embedded")
    kept = {add_run(runtime, project, age, "COMPLETED") for age in (1, 2, 3)}
    shared = add_run(runtime, project, 90, "COMPLETED")
    with runtime.db.write() as session:
        embedded_store.add(session, project, 1, "k" * 64, shared, NOW)

    retention = build_retention(runtime.settings, runtime.db)
    scheduling = SchedulingService(
        runtime.db, lambda: NOW, scheduling_limits(runtime.settings), None, None
    )
    Scheduler(scheduling, None, lambda: NOW, None, None, retention).tick(NOW)

    assert run_ids(runtime) == kept
    with runtime.db.read() as session:
        assert embedded_store.get(session, project, 1, "k" * 64) is None
