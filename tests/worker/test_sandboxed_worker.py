"""On a Celery worker too, a notebook cannot reach the worker, the server or their secrets."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from runyard.kernel.sandbox import sandbox_for
from tests.cast import bearer, new_user, notebook, personal_token, published_project
from tests.conftest import service_missing
from tests.sandbox_cast import (
    attempt_results,
    attempts_notebook,
    process_alive,
    processes_with,
    run_folders,
)
from tests.worker.conftest import TERMINAL, Cluster

pytestmark = [pytest.mark.postgres, pytest.mark.kernel, pytest.mark.slow]


def test_a_notebook_on_a_worker_cannot_reach_it_nor_outgrow_its_limits(
    cluster: Cluster,
) -> None:
    _, warning = sandbox_for("auto")
    if warning is not None:
        service_missing(f"bubblewrap cannot sandbox kernels on this machine: {warning}")
    server = cluster.start(
        workers=1, RUNYARD_KERNEL_SANDBOX="bwrap", RUNYARD_KERNEL_MEMORY_LIMIT_MB="300"
    )
    worker = cluster.workers[0]
    assert server.process is not None
    editor = new_user(server.http, "worker-editor@example.com")
    token = personal_token(server.http, editor["id"])
    http = httpx.Client(base_url=str(server.http.base_url), headers=bearer(token), timeout=10)
    try:
        attempts = attempts_notebook(
            server.home,
            server.home / "runyard.db",
            {"worker": worker.pid, "server": server.process.pid},
            run_folders(),
        )
        project_id, run_id, run = _run(http, attempts)

        assert run["status"] == "COMPLETED", worker.log()
        results = attempt_results(http, project_id, run_id, token)
        assert {name: r for name, r in results.items() if "SUCCEEDED" in r} == {}
        assert "read the worker's environ" in results
        assert http.get("/api/v1/users/me").json()["role"] == "EDITOR"
        assert process_alive(worker.pid)
        assert process_alive(server.process.pid)

        marker = f"{time.time_ns() % 10**9 + 10**9}"
        leaver = notebook(f"import subprocess; subprocess.Popen(['sleep', '{marker}'])")
        assert _run(http, leaver)[2]["status"] == "COMPLETED"
        assert processes_with(marker) == []

        _, _, hog = _run(http, notebook("hog = b'x' * (600 * 2**20)", "import time; time.sleep(5)"))
        assert hog["status"] == "ERRORED"
        assert "exceeded its memory limit of 300 MB" in hog["error"]["message"]

        flood = notebook("import sys\nfor _ in range(20 * 1024):\n    sys.stdout.write('x' * 1024)")
        flood_project, flood_run, flooded = _run(http, flood)
        assert flooded["status"] == "COMPLETED"
        executed = http.get(f"/api/v1/projects/{flood_project}/runs/{flood_run}/notebook").json()
        text = "".join(o.get("text", "") for o in executed["cells"][0]["outputs"])
        assert "output cut here" in text
        assert len(text) < 11 * 2**20
        assert process_alive(worker.pid)
    finally:
        http.close()


def _run(http: httpx.Client, nb: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """Publish `nb`, run it, wait for the end: (project id, run id, run)."""
    project_id = published_project(http, nb)
    run_id = http.post(f"/api/v1/projects/{project_id}/runs", json={}).json()["runId"]
    deadline = time.monotonic() + 120
    while True:
        run: dict[str, Any] = http.get(f"/api/v1/projects/{project_id}/runs/{run_id}").json()
        if run["status"] in TERMINAL:
            return project_id, run_id, run
        assert time.monotonic() < deadline, run
        time.sleep(0.1)
