"""Runs through a broker: `runyard serve` with RUNYARD_EXECUTOR=celery triggers, `runyard
worker` processes execute, over Redis and over RabbitMQ, on PostgreSQL."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from runyard.executor.celery import BrokerSettings, CeleryExecutor
from tests.servers import RUNYARD, Server, free_port, import_example
from tests.worker.conftest import TERMINAL, Cluster, process_alive

pytestmark = [pytest.mark.postgres, pytest.mark.kernel, pytest.mark.slow]


def _code_cell(source: str, tags: list[str] | None = None) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "metadata": {"tags": tags or []},
        "outputs": [],
        "execution_count": None,
        "source": source,
    }


def _import(server: Server, *cells: dict[str, Any]) -> str:
    notebook = {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    response = server.http.post(
        "/api/v1/projects/import",
        params={"publish": "true"},
        content=json.dumps(notebook),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    project_id: str = response.json()["project"]["id"]
    return project_id


class Gate:
    """What a gated run waits for: something listening on a port of this machine. A kernel
    in its sandbox sees none of the test's files, but it does reach the network."""

    def __init__(self) -> None:
        self.port = free_port()
        self._listener: socket.socket | None = None

    def open(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()


@pytest.fixture
def gate() -> Iterator[Gate]:
    door = Gate()
    yield door
    door.close()


def gated_project(server: Server) -> str:
    """A notebook that runs until its `gate` input's port is open (see Gate)."""
    return _import(
        server,
        _code_cell("gate = 0", tags=["parameters"]),
        _code_cell(
            "import socket, time\n"
            "while True:\n"
            "    try:\n"
            "        socket.create_connection(('127.0.0.1', gate), timeout=1).close()\n"
            "        break\n"
            "    except OSError:\n"
            "        time.sleep(0.05)\n"
            "print('through the gate')"
        ),
    )


def sleeper_project(server: Server) -> str:
    return _import(server, _code_cell("import time\ntime.sleep(300)"))


def trigger(server: Server, project_id: str, params: dict[str, Any] | None = None) -> str:
    response = server.http.post(
        f"/api/v1/projects/{project_id}/runs", json={"inputParams": params or {}}
    )
    assert response.status_code == 201, response.text
    run_id: str = response.json()["runId"]
    return run_id


def status_of(server: Server, project_id: str, run_id: str) -> str:
    status: str = server.http.get(f"/api/v1/projects/{project_id}/runs/{run_id}").json()["status"]
    return status


def pid_in(worker_id: str | None) -> int:
    assert worker_id is not None
    return int(worker_id.split(":")[1])


def test_runs_wait_pending_for_workers_then_spread_over_them_each_executed_once(
    cluster: Cluster, gate: Gate
) -> None:
    server = cluster.start(workers=0)
    gated = gated_project(server)
    example = import_example(server)

    # Nobody can claim a run before a worker is up: the messages wait in the broker.
    held = [trigger(server, gated, {"gate": gate.port}) for _ in range(2)]
    assert [status_of(server, gated, run_id) for run_id in held] == ["PENDING", "PENDING"]

    # Each worker has one kernel slot: with a gated run holding one worker, the other run
    # can only go to the other worker.
    workers = cluster.start_workers(2)
    for run_id in held:
        server.wait_for(gated, run_id, {"RUNNING"})
    assert {pid_in(cluster.worker_of(run_id)) for run_id in held} == {w.pid for w in workers}

    queued = [trigger(server, example, {"region": "APAC", "days": 3}) for _ in range(2)]
    gate.open()
    for project_id, run_id in [(gated, r) for r in held] + [(example, r) for r in queued]:
        final = server.wait_for(project_id, run_id, TERMINAL)
        assert final["status"] == "COMPLETED", final
        events = cluster.events(project_id, run_id)
        assert [e["value"] for e in events if e["type"] == "STATUS"].count("RUNNING") == 1
        assert len([e for e in events if e["type"] == "KERNEL_STARTED"]) == 1
        assert pid_in(cluster.worker_of(run_id)) in {w.pid for w in workers}
    for run_id in queued:
        log = server.http.get(f"/api/v1/projects/{example}/runs/{run_id}/log").text
        assert "APAC" in log and "total:" in log
    gated_log = server.http.get(f"/api/v1/projects/{gated}/runs/{held[0]}/log").text
    assert "through the gate" in gated_log


def test_a_cancel_kills_the_kernel_through_the_store_and_through_the_broker_alone(
    cluster: Cluster,
) -> None:
    server = cluster.start(RUNYARD_MAX_CONCURRENT_KERNELS="2")
    worker = cluster.workers[0]
    sleeper = sleeper_project(server)
    cancelled, prompted = trigger(server, sleeper), trigger(server, sleeper)
    kernels = {run_id: cluster.kernel_pid(sleeper, run_id) for run_id in (cancelled, prompted)}

    # A user's cancel: the flag in the store (read by the run's heartbeat) and the prompt.
    response = server.http.delete(f"/api/v1/projects/{sleeper}/runs/{cancelled}")
    assert response.status_code == 204, response.text
    final = server.wait_for(sleeper, cancelled, TERMINAL)
    assert final["status"] == "KILLED", final
    assert not process_alive(kernels[cancelled])

    # The broker's prompt alone, without the flag in the store that the heartbeat reads:
    # the kernel dies, and as nobody asked to cancel the run it ends as an error.
    executor = CeleryExecutor(
        BrokerSettings(
            cluster.broker_url,
            cluster.queue,
            allocation_timeout_seconds=300,
            longest_run_seconds=3600,
        )
    )
    try:
        executor.cancel(prompted)
    finally:
        executor.stop()
    final = server.wait_for(sleeper, prompted, TERMINAL)
    assert final["status"] == "ERRORED", final
    assert not process_alive(kernels[prompted])
    assert f"cancel of run {prompted} received: killed its kernel" in worker.log()


def test_a_worker_killed_mid_run_leaves_its_run_to_the_reaper_and_others_carry_on(
    cluster: Cluster,
) -> None:
    server = cluster.start(workers=2, RUNYARD_LEASE_SECONDS="3")
    sleeper = sleeper_project(server)
    example = import_example(server)
    run_id = trigger(server, sleeper)
    server.wait_for(sleeper, run_id, {"RUNNING"})
    kernel_pid = cluster.kernel_pid(sleeper, run_id)
    owner = pid_in(cluster.worker_of(run_id))
    (victim,) = [w for w in cluster.workers if w.pid == owner]

    victim.kill_hard()
    lost = server.wait_for(sleeper, run_id, TERMINAL)
    assert lost["status"] == "ERRORED", lost
    assert "stopped renewing its lease" in lost["error"]["message"]
    # ipykernel exits by itself when its parent dies only where it is re-parented to pid 1;
    # elsewhere (under a subreaper) only a process on the kernel's own host can kill it: the
    # next worker to start there does, although the run has ended meanwhile
    # (tests/services/test_orphaned_kernels.py checks that with a kernel that stays up).
    cluster.start_workers(1)
    deadline = time.monotonic() + 30
    while process_alive(kernel_pid):
        assert time.monotonic() < deadline, "the orphaned kernel outlived the next worker start"
        time.sleep(0.1)

    # The lost message may come back from the broker to the other worker: the run is no
    # longer PENDING, so it is a no-op there, and the next run goes through.
    after = trigger(server, example)
    assert server.wait_for(example, after, TERMINAL)["status"] == "COMPLETED"
    assert pid_in(cluster.worker_of(after)) != owner
    assert server.wait_for(sleeper, run_id, TERMINAL)["status"] == "ERRORED"


def test_sigterm_ends_a_workers_running_run_errored_and_leaves_queued_runs_to_others(
    cluster: Cluster,
) -> None:
    server = cluster.start()
    worker = cluster.workers[0]
    sleeper = sleeper_project(server)
    example = import_example(server)
    running = trigger(server, sleeper)
    server.wait_for(sleeper, running, {"RUNNING"})
    kernel_pid = cluster.kernel_pid(sleeper, running)
    # The worker's one slot is taken: this run's message waits in the broker.
    queued = trigger(server, example)

    assert worker.terminate() == 0

    stopped = server.wait_for(sleeper, running, TERMINAL)
    assert stopped["status"] == "ERRORED", stopped
    assert "worker shut down" in stopped["error"]["message"]
    assert not process_alive(kernel_pid)
    assert status_of(server, example, queued) == "PENDING"

    cluster.start_workers(1)
    assert server.wait_for(example, queued, TERMINAL)["status"] == "COMPLETED"


def test_sigterm_lets_a_run_that_ends_within_the_grace_period_complete(
    cluster: Cluster, gate: Gate
) -> None:
    server = cluster.start(RUNYARD_SHUTDOWN_GRACE_SECONDS="120")
    worker = cluster.workers[0]
    gated = gated_project(server)
    running = trigger(server, gated, {"gate": gate.port})
    server.wait_for(gated, running, {"RUNNING"})

    worker.process.send_signal(signal.SIGTERM)
    # The worker drains: it waits for the run, which goes on until the gate opens.
    with pytest.raises(subprocess.TimeoutExpired):
        worker.process.wait(timeout=2)
    assert status_of(server, gated, running) == "RUNNING"
    gate.open()
    assert worker.process.wait(timeout=60) == 0
    finished = server.wait_for(gated, running, TERMINAL)
    assert finished["status"] == "COMPLETED", finished


def test_a_scheduler_alone_sends_the_runs_it_fires_to_the_workers(
    cluster: Cluster, tmp_path: Path
) -> None:
    server = cluster.start()
    example = import_example(server)
    created = server.http.post(
        f"/api/v1/projects/{example}/schedules",
        json={"cadence": "CUSTOM", "timezone": "UTC", "custom": {"cron": "0 0 1 1 *"}},
    )
    assert created.status_code == 201, created.text
    schedule_id = created.json()["id"]
    # No `runyard serve` from here on: nothing but the scheduler can hand the run to a worker.
    server.stop()
    engine = sa.create_engine(cluster.database_url)
    try:
        with engine.begin() as conn:
            # Make the slot due now rather than wait for next New Year.
            conn.execute(
                sa.text("UPDATE schedules SET next_fire_at = :now WHERE id = :id"),
                {"now": datetime.now(UTC) - timedelta(seconds=1), "id": schedule_id},
            )
        with (tmp_path / "scheduler.log").open("ab") as log:
            scheduler = subprocess.Popen(
                [str(RUNYARD), "scheduler"],
                env=server.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + 90
            while True:
                with engine.connect() as conn:
                    status = conn.execute(
                        sa.text("SELECT status FROM runs WHERE schedule_id = :id"),
                        {"id": schedule_id},
                    ).scalar_one_or_none()
                if status in TERMINAL:
                    break
                assert time.monotonic() < deadline, (
                    f"scheduled run still {status}:\n{(tmp_path / 'scheduler.log').read_text()}"
                )
                time.sleep(0.2)
        finally:
            scheduler.send_signal(signal.SIGTERM)
            scheduler.wait(timeout=30)
    finally:
        engine.dispose()
    assert status == "COMPLETED"


def test_sql_results_kept_by_one_worker_are_reused_through_the_store(
    cluster: Cluster, tmp_path: Path
) -> None:
    """The SQL result cache lives in the store, so whichever worker runs the next run finds
    what another kept; `useCachedSqlResults: false` queries afresh."""
    server = cluster.start(workers=2)
    shop = tmp_path / "shop.db"
    with sqlite3.connect(shop) as db:
        db.execute("create table sales (amount integer)")
        db.execute("insert into sales values (7)")
    created = server.http.post(
        "/api/v1/data-connections",
        json={
            "name": "Shop",
            "type": "sqlite",
            "connectionDetails": {"sqlite": {"path": str(shop)}},
        },
    )
    assert created.status_code == 201, created.text
    sql = _code_cell("select amount from sales")
    sql["metadata"] = {"runyard": {"sql": {"connection": created.json()["id"], "output": "df"}}}
    project_id = _import(server, sql, _code_cell("print('amount', int(df['amount'][0]))"))

    def run(**body: Any) -> str:
        response = server.http.post(f"/api/v1/projects/{project_id}/runs", json=body)
        assert response.status_code == 201, response.text
        run_id: str = response.json()["runId"]
        final = server.wait_for(project_id, run_id, TERMINAL)
        assert final["status"] == "COMPLETED", final
        log: str = server.http.get(f"/api/v1/projects/{project_id}/runs/{run_id}/log").text
        return log

    assert "amount 7" in run()
    with sqlite3.connect(shop) as db:
        db.execute("update sales set amount = 70")

    cached = run()
    assert "amount 7\n" in cached and "reused a cached result" in cached
    fresh = run(useCachedSqlResults=False)
    assert "amount 70" in fresh and "reused a cached result" not in fresh
