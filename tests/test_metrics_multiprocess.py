"""PROMETHEUS_MULTIPROC_DIR: processes that share the folder report their sum at any one
process's /metrics (prometheus_client's multi-process mode)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

COUNT = """
from runyard import metrics
metrics.HTTP_REQUESTS.labels("GET", "/healthz", "200").inc()
metrics.KERNELS_BUSY.inc()
"""
SCRAPE = """
import sys
from runyard import metrics
sys.stdout.write(metrics.exposition().decode())
"""


def _python(code: str, folder: Path) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_processes_sharing_the_folder_are_added_up(tmp_path: Path) -> None:
    _python(COUNT, tmp_path)
    _python(COUNT, tmp_path)
    text = _python(SCRAPE, tmp_path)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    route = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert samples[("runyard_http_requests_total", route)] == 2
    # A gauge too; its files outlive a process until the process manager calls
    # prometheus_client.multiprocess.mark_process_dead(pid) (docs/operations.md).
    assert samples[("runyard_kernels_busy", ())] == 2
