"""A real `runyard serve` process, driven with a plain HTTP client, and killed mid-run."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import TOKEN, Server, free_port, import_example

TERMINAL = {"COMPLETED", "ERRORED", "KILLED", "UNABLE_TO_ALLOCATE_KERNEL"}

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


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


def test_an_idle_connection_stays_open_past_a_poll_interval(server: Server) -> None:
    """Published clients poll on one kept-alive connection every 1 to 30 s (hex-toolkit's
    README loop: 5 s). At uvicorn's own keep-alive of 5 s, the server closed the connection
    just as such a poll was sent, and the client got 'connection reset by peer'."""
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        for poll in range(2):
            if poll:
                time.sleep(6)  # past uvicorn's default, well inside Runyard's 75 s
                connection.setblocking(False)
                with pytest.raises(BlockingIOError):  # b"" here: the server hung up
                    connection.recv(1, socket.MSG_PEEK)
                connection.setblocking(True)
            connection.sendall(request)
            assert read_answer(connection).startswith(b"HTTP/1.1 200")


def read_answer(connection: socket.socket) -> bytes:
    """One whole HTTP/1.1 answer (head and Content-Length body), however it was segmented."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += connection.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


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
    # The kernel dies with the server that started it (its sandbox's --die-with-parent):
    # no orphan is left running until the next start.
    deadline = time.monotonic() + 10
    while process_alive(kernel_pid):
        assert time.monotonic() < deadline, "the kernel outlived a server killed with -9"
        time.sleep(0.05)
    server.start()

    lost = server.wait_for(slow_id, running, TERMINAL, timeout=30)
    assert lost["status"] == "ERRORED"
    assert "server stopped" in lost["error"]["message"]
    picked_up = server.wait_for(quick_id, pending, TERMINAL)
    assert picked_up["status"] == "COMPLETED"


SLEEPER = {
    "cells": [
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": "import time\nprint('started', flush=True)\ntime.sleep(300)",
        }
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_after_a_crash_the_next_start_removes_the_kernel_folders_left_behind(
    tmp_path: Path,
) -> None:
    # A temporary folder of the test's own, so only this test's servers write there; short,
    # as the kernels' IPC sockets in it have paths of at most 107 bytes.
    temp = Path(tempfile.mkdtemp(prefix="ry-", dir="/tmp"))
    server = Server(
        tmp_path / "home", free_port(), TMPDIR=str(temp), RUNYARD_MAX_CONCURRENT_KERNELS="1"
    )
    server.start()
    later = subprocess.Popen(["sleep", "300"])
    try:
        project_id = server.http.post(
            "/api/v1/projects/import",
            params={"publish": "true"},
            content=json.dumps(SLEEPER),
            headers={"Content-Type": "application/json"},
        ).json()["project"]["id"]
        run_id = server.http.post(f"/api/v1/projects/{project_id}/runs").json()["runId"]
        server.wait_for(project_id, run_id, {"RUNNING"})
        kernel_pid_of(server, project_id, run_id)
        assert server.process is not None
        crashed = server.process.pid
        server.kill_hard()

        left = sorted(temp.glob(f"runyard-kernel-{crashed}-*"))
        keys = [f for d in left for f in d.glob("kernel.json") if '"key"' in f.read_text()]
        assert keys, "the crash left no kernel folder with a signing key to clean up"
        legacy = temp / "runyard-run-q8w7e6r5"  # a run's work folder of an older version
        (legacy / "out").mkdir(parents=True)
        # A folder named for a pid that a later process got: made a day before it started.
        reused = temp / f"runyard-kernel-{later.pid}-z9y8x7w6"
        reused.mkdir()
        os.utime(reused, (time.time() - 86400, time.time() - 86400))
        server.start()

        assert [d for d in left if d.exists()] == []
        assert not legacy.exists()
        assert not reused.exists()
        # The run the crash ended says why it has no log, for good.
        ended = server.wait_for(project_id, run_id, TERMINAL)
        assert ended["status"] == "ERRORED"
        log = server.http.get(f"/api/v1/projects/{project_id}/runs/{run_id}/log")
        assert log.status_code == 404
        assert "ended ERRORED" in log.json()["message"]
        assert "server stopped" in log.json()["message"]
    finally:
        server.stop()
        server.http.close()
        later.kill()
        later.wait()
        shutil.rmtree(temp, ignore_errors=True)
