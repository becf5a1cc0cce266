"""Trigger -> COMPLETED latency of a trivial 3-cell parameterised notebook.

Runyard (a real `runyard serve` on the embedded SQLite store, driven over HTTP, one run at a
time) against papermill executing the same notebook in-process on the same machine, in the
same run of this script. Prints median and p95 of each and their ratio.

    .venv/bin/python bench/run_latency.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nbformat
from nbformat.v4 import new_code_cell, new_notebook

TOKEN = "hxtw_bench-run-latency-token-0123456789abcdef"
TERMINAL = {"COMPLETED", "ERRORED", "KILLED", "UNABLE_TO_ALLOCATE_KERNEL"}


def trivial_notebook() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "language": "python",
        "display_name": "Python 3",
    }
    nb.cells = [
        new_code_cell("n = 1", metadata={"tags": ["parameters"]}),
        new_code_cell("total = sum(range(n))"),
        new_code_cell("print(total)"),
    ]
    return nb


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(http: httpx.Client, seconds: float) -> None:
    """Return once the server answers; raise its connection error after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            http.get("/projects")
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def time_runs(http: httpx.Client, project_id: str, runs: int) -> list[float]:
    """Trigger and poll `runs` runs one at a time; their trigger -> COMPLETED times. One
    more run goes first, uncounted: it warms imports up (papermill gets the same treatment)
    and, with Celery, waits for a worker to come up."""
    latencies = []
    for index in range(runs + 1):
        started = time.perf_counter()
        run = http.post(f"/projects/{project_id}/runs", json={"inputParams": {"n": index + 1}})
        run_id = run.json()["runId"]
        while True:
            status = http.get(f"/projects/{project_id}/runs/{run_id}").json()
            if status["status"] in TERMINAL:
                break
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        if status["status"] != "COMPLETED":
            raise SystemExit(f"run ended {status['status']}: {status.get('error')}")
        if index:
            latencies.append(elapsed)
    return latencies


def bench_runyard(path: Path, runs: int, workdir: Path) -> list[float]:
    port = free_port()
    env = {
        **os.environ,
        "RUNYARD_HOME": str(workdir / "home"),
        "RUNYARD_PORT": str(port),
        "RUNYARD_BOOTSTRAP_TOKEN": TOKEN,
        "RUNYARD_LOG_LEVEL": "warning",
        # The benchmark polls every 10 ms, far past Hex's 30 requests a minute per token.
        "RUNYARD_RATE_LIMITS_ENABLED": "false",
    }
    runyard = Path(sys.executable).parent / "runyard"
    server = subprocess.Popen(
        [str(runyard), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    http = httpx.Client(
        base_url=f"http://127.0.0.1:{port}/api/v1",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    try:
        wait_until_up(http, 30)
        project = http.post(
            "/projects/import",
            params={"publish": "true"},
            files={"file": ("bench.ipynb", path.read_bytes())},
        ).json()
        project_id = project["project"]["id"]
        return time_runs(http, project_id, runs)
    finally:
        http.close()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def bench_papermill(path: Path, runs: int, workdir: Path) -> list[float]:
    import papermill

    latencies = []
    for index in range(runs + 1):
        started = time.perf_counter()
        papermill.execute_notebook(
            str(path),
            str(workdir / "out.ipynb"),
            parameters={"n": index + 1},
            progress_bar=False,
            log_output=False,
            kernel_name="python3",
        )
        if index:
            latencies.append(time.perf_counter() - started)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        path = workdir / "trivial.ipynb"
        nbformat.write(trivial_notebook(), path)
        papermill_s = bench_papermill(path, args.runs, workdir)
        runyard_s = bench_runyard(path, args.runs, workdir)
    rows = [("runyard", runyard_s), ("papermill", papermill_s)]
    print(f"trigger -> COMPLETED, trivial 3-cell notebook, {args.runs} runs one at a time")
    print(f"{'':10} {'median':>9} {'p95':>9}")
    for name, values in rows:
        print(
            f"{name:10} {statistics.median(values) * 1000:8.0f}ms "
            f"{percentile(values, 0.95) * 1000:8.0f}ms"
        )
    ratio = statistics.median(runyard_s) / statistics.median(papermill_s)
    print(
        f"ratio runyard/papermill (median): {ratio:.2f}"
        f" ({'no slower' if ratio <= 1.0 else 'SLOWER'} than papermill)"
    )


if __name__ == "__main__":
    main()
