"""On a Celery worker too, a notebook cannot reach the worker, the server or their secrets."""

from __future__ import annotations

import time

import httpx
import pytest

from runyard.kernel.sandbox import sandbox_for
from tests.cast import bearer, new_user, personal_token, published_project
from tests.conftest import service_missing
from tests.sandbox_cast import attempt_results, attempts_notebook, process_alive, run_folders
from tests.worker.conftest import TERMINAL, Cluster

pytestmark = [pytest.mark.postgres, pytest.mark.kernel, pytest.mark.slow]


def test_a_notebook_on_a_worker_cannot_read_its_environment_or_signal_it(
    cluster: Cluster,
) -> None:
    _, warning = sandbox_for("auto")
    if warning is not None:
        service_missing(f"bubblewrap cannot sandbox kernels on this machine: {warning}")
    server = cluster.start(workers=1, RUNYARD_KERNEL_SANDBOX="bwrap")
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
        project_id = published_project(http, attempts)
        run_id = http.post(f"/api/v1/projects/{project_id}/runs", json={}).json()["runId"]
        deadline = time.monotonic() + 120
        while (run := http.get(f"/api/v1/projects/{project_id}/runs/{run_id}").json())[
            "status"
        ] not in TERMINAL:
            assert time.monotonic() < deadline, run
            time.sleep(0.1)

        assert run["status"] == "COMPLETED", worker.log()
        results = attempt_results(http, project_id, run_id, token)
        assert {name: r for name, r in results.items() if "SUCCEEDED" in r} == {}
        assert "read the worker's environ" in results
        assert http.get("/api/v1/users/me").json()["role"] == "EDITOR"
        assert process_alive(worker.pid)
        assert process_alive(server.process.pid)
    finally:
        http.close()
