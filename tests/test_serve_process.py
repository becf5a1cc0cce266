"""A real `runyard serve` process, driven with a plain HTTP client, and killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

TOKEN = "hxtw_serve-process-test-token-abcdef0123456789"
EXAMPLE = Path(__file__).parents[1] / "examples" / "daily_sales.ipynb"
RUNYARD = Path(sys.executable).parent / "runyard"
TERMINAL = {"COMPLETED", "ERRORED", "KILLED", "UNABLE_TO_ALLOCATE_KERNEL"}

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    def __init__(self, home: Path, port: int, **env: str) -> None:
        self.home = home
        self.port = port
        self.env = {
            **os.environ,
            "RUNYARD_HOME": str(home),
            "RUNYARD_PORT": str(port),
            "RUNYARD_BOOTSTRAP_TOKEN": TOKEN,
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )

    def start(self) -> None:
        with (self.home.parent / f"serve-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(RUNYARD), "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "runyard serve exited during start-up"
            try:
                if self.http.get("/openapi.json").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("runyard serve did not answer within 30s")

    def kill_hard(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def wait_for(
        self, project_id: str, run_id: str, statuses: set[str], timeout: float = 60
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            run: dict[str, Any] = self.http.get(f"/api/v1/project/{project_id}/run/{run_id}").json()
            if run["status"] in statuses:
                return run
            assert time.monotonic() < deadline, run
            time.sleep(0.1)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "home", free_port(), RUNYARD_MAX_CONCURRENT_KERNELS="1")
    running.start()
    yield running
    running.stop()
    running.http.close()


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes; it only waits to be reaped by its parent.
    return "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]


def kernel_pid_of(server: Server, project_id: str, run_id: str) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        events = server.http.get(
            f"/api/v1/projects/{project_id}/runs/{run_id}",
            headers={"enable-expanded-stats": "true"},
        ).json()["stateEvents"]
        started = [e["value"] for e in events if e["type"] == "KERNEL_STARTED"]
        if started:
            return int(started[0].removeprefix("pid "))
        time.sleep(0.1)
    raise AssertionError("the kernel never started")


def import_example(server: Server) -> str:
    with EXAMPLE.open("rb") as handle:
        response = server.http.post(
            "/api/v1/projects/import",
            params={"publish": "true"},
            files={"file": ("daily_sales.ipynb", handle)},
        )
    assert response.status_code == 201, response.text
    project_id: str = response.json()["project"]["id"]
    return project_id


def test_a_plain_http_client_triggers_polls_and_reads_a_completed_run(server: Server) -> None:
    project_id = import_example(server)
    response = server.http.post(
        f"/api/v1/project/{project_id}/run",
        json={"inputParams": {"region": "APAC", "days": 3}, "updateCache": False},
    )
    assert response.status_code == 201
    run = response.json()
    status = httpx.get(
        run["runStatusUrl"].replace("127.0.0.1:8080", f"127.0.0.1:{server.port}"),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert status.status_code == 200
    final = server.wait_for(project_id, run["runId"], TERMINAL)
    assert final["status"] == "COMPLETED", final
    log = server.http.get(f"/api/v1/projects/{project_id}/runs/{run['runId']}/log").text
    assert "APAC" in log and "total:" in log


def test_after_a_crash_running_runs_end_errored_and_pending_runs_still_run(
    server: Server,
) -> None:
    sleeper = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": "import time\ntime.sleep(300)",
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    slow = server.http.post(
        "/api/v1/projects/import",
        params={"publish": "true"},
        content=json.dumps(sleeper),
        headers={"Content-Type": "application/json"},
    ).json()
    slow_id = slow["project"]["id"]
    quick_id = import_example(server)
    running = server.http.post(f"/api/v1/projects/{slow_id}/runs").json()["runId"]
    server.wait_for(slow_id, running, {"RUNNING"})
    # One kernel slot, taken by the sleeper: this run stays PENDING until the crash.
    pending = server.http.post(f"/api/v1/projects/{quick_id}/runs").json()["runId"]
    time.sleep(0.5)
    assert server.http.get(f"/api/v1/projects/{quick_id}/runs/{pending}").json()["status"] == (
        "PENDING"
    )

    kernel_pid = kernel_pid_of(server, slow_id, running)
    server.kill_hard()
    assert process_alive(kernel_pid), "the kernel should outlive a server killed with -9"
    server.start()

    lost = server.wait_for(slow_id, running, TERMINAL, timeout=30)
    assert lost["status"] == "ERRORED"
    assert "server stopped" in lost["error"]["message"]
    assert not process_alive(kernel_pid), "the restarted server must kill the orphaned kernel"
    picked_up = server.wait_for(quick_id, pending, TERMINAL)
    assert picked_up["status"] == "COMPLETED"
