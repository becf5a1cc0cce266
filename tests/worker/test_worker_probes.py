"""RUNYARD_WORKER_PROBE_PORT: a `runyard worker` answers /healthz, /readyz and /metrics."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.servers import free_port, import_example
from tests.worker.conftest import TERMINAL, Cluster


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_worker_answers_its_probes_and_counts_the_runs_it_executed(cluster: Cluster) -> None:
    port = free_port()
    server = cluster.start(RUNYARD_WORKER_PROBE_PORT=str(port), RUNYARD_METRICS_TOKEN="m-token")
    probes = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        assert probes.get("/healthz").json() == {"status": "ok"}
        ready = probes.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {
            "store": "ok",
            "migrations": "ok",
            "broker": "ok",
            "scheduler": "not used",
        }

        project_id = import_example(server)
        run_id = server.http.post(f"/api/v1/projects/{project_id}/runs", json={}).json()["runId"]
        assert server.wait_for(project_id, run_id, TERMINAL)["status"] == "COMPLETED"

        assert probes.get("/metrics").status_code == 401
        answer = probes.get("/metrics", headers={"Authorization": "Bearer m-token"})
        assert answer.status_code == 200
        samples = _samples(answer.text)
        assert samples[("runyard_run_duration_seconds_count", (("status", "COMPLETED"),))] == 1
        assert samples[("runyard_run_queue_wait_seconds_count", ())] == 1
        assert samples[("runyard_kernel_start_seconds_count", ())] == 1
        assert samples[("runyard_kernels_busy", ())] == 0
        assert ("runyard_kernels_idle", ()) in samples
    finally:
        probes.close()
