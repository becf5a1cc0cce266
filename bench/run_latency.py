"""Trigger -> COMPLETED latency of a trivial 3-cell parameterised notebook.

Runyard (a real `runyard serve` on the embedded SQLite store, driven over HTTP, one run at a
time) against papermill executing the same notebook in-process on the same machine, in the
same run of this script. Runyard runs four ways: with its default kernel pool and without
(`RUNYARD_KERNEL_POOL_SIZE=0`), each in the bubblewrap sandbox (the default where it works)
and unconfined (`RUNYARD_KERNEL_SANDBOX=none`): the sandbox's cost, with and without the
pool. Prints median and p95 of each and their ratio to papermill's median.

Runs are triggered one at a time, `--pause` seconds apart (a pool refills between
triggers, as it does between the runs of a schedule or a DAG; 0 measures back-to-back).

    .venv/bin/python bench/run_latency.py [--runs 30] [--pause 1.5]
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from figures import Figure, record

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


def time_runs(http: httpx.Client, project_id: str, runs: int, pause: float = 0.0) -> list[float]:
    """Trigger and poll `runs` runs one at a time, `pause` seconds apart; their trigger ->
    COMPLETED times. One more run goes first, uncounted: it warms imports up (papermill
    gets the same treatment) and, with Celery, waits for a worker to come up."""
    latencies = []
    for index in range(runs + 1):
        time.sleep(pause)
        started = time.perf_counter()
        run = http.post(f"/projects/{project_id}/runs", json={"inputParams": {"n": index + 1}})
        run_id = run.json()["runId"]
        while True:
            status = http.get(f"/projects/{project_id}/runs/{run_id}").json()
            if status["status"] in TERMINAL:
                break
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        if status["status"] != "COMPLETED":
            raise SystemExit(f"run ended {status['status']}: {status.get('error')}")
        if index:
            latencies.append(elapsed)
    return latencies


@dataclass
class Served:
    """A `runyard serve` started for a bench: its process, and a client of its API."""

    process: subprocess.Popen[bytes]
    base_url: str
    http: httpx.Client  # speaks to base_url/api/v1 with `token`


@contextmanager
def served(workdir: Path, token: str, **settings: str) -> Iterator[Served]:
    """`runyard serve` on the embedded store in a home of its own under `workdir`, with
    `settings` (environment variables) over the defaults; stopped (SIGTERM) on the way out."""
    port = free_port()
    env = {
        **os.environ,
        "RUNYARD_HOME": str(workdir / f"home-{port}"),
        "RUNYARD_PORT": str(port),
        "RUNYARD_BOOTSTRAP_TOKEN": token,
        "RUNYARD_LOG_LEVEL": "warning",
        **settings,
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "runyard"), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    http = httpx.Client(
        base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    try:
        wait_until_up(http, 60)
        yield Served(process, base_url, http)
    finally:
        http.close()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def import_notebook(http: httpx.Client, path: Path) -> str:
    """Import the notebook at `path` as a published project; its id."""
    answer = http.post(
        "/projects/import",
        params={"publish": "true"},
        files={"file": ("bench.ipynb", path.read_bytes())},
    )
    answer.raise_for_status()
    project_id: str = answer.json()["project"]["id"]
    return project_id


def bench_runyard(
    path: Path, runs: int, workdir: Path, pause: float = 0.0, **settings: str
) -> list[float]:
    # The benchmark polls every 5 ms, far past Hex's 30 requests a minute per token.
    with served(workdir, TOKEN, RUNYARD_RATE_LIMITS_ENABLED="false", **settings) as server:
        project_id = import_notebook(server.http, path)
        time.sleep(5)  # let the pool fill after start-up, as it has long done in service
        return time_runs(server.http, project_id, runs, pause)


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
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pause", type=float, default=1.5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        path = workdir / "trivial.ipynb"
        nbformat.write(trivial_notebook(), path)
        papermill_s = bench_papermill(path, args.runs, workdir)
        rows = []
        for sandbox in ("bwrap", "none"):
            for pool in ("default", "0"):
                settings = {"RUNYARD_KERNEL_SANDBOX": sandbox}
                if pool == "0":
                    settings["RUNYARD_KERNEL_POOL_SIZE"] = "0"
                name = f"runyard {sandbox}, pool {'on' if pool == 'default' else 'off'}"
                rows.append((name, bench_runyard(path, args.runs, workdir, args.pause, **settings)))
        rows.append(("papermill", papermill_s))
    base = statistics.median(papermill_s)
    print(
        f"trigger -> COMPLETED, trivial 3-cell notebook, {args.runs} runs one at a time,"
        f" {args.pause:g}s apart"
    )
    print(f"{'':26} {'median':>9} {'p95':>9} {'/papermill':>11}")
    for name, values in rows:
        print(
            f"{name:26} {statistics.median(values) * 1000:8.0f}ms "
            f"{percentile(values, 0.95) * 1000:8.0f}ms {statistics.median(values) / base:10.2f}x"
        )
    for name, values in rows[:-1]:
        median = statistics.median(values)
        default = name == "runyard bwrap, pool on"  # what a new user runs
        for stat, value, papermill in (
            ("median", median, base),
            ("p95", percentile(values, 0.95), percentile(papermill_s, 0.95)),
        ):
            target = default and stat == "median"
            record(
                Figure(
                    key="P1" if default else "",
                    what=f"trigger->COMPLETED {stat}, {name.removeprefix('runyard ')}",
                    value=value * 1000,
                    unit="ms",
                    baseline=papermill * 1000,
                    baseline_what="papermill",
                    target="<= 0.1x papermill" if target else "",
                    met=median <= 0.1 * base if target else None,
                )
            )


if __name__ == "__main__":
    main()
