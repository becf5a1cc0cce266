"""Throughput: many trivial runs triggered at once, completed runs per minute.

A real `runyard serve` with its default settings (kernel limit, pool, sandbox) on the
embedded SQLite store is sent `--runs` triggers of the trivial 3-cell notebook as fast as
one client can send them; the clock stops when the last run has ended. The baseline, in
the same run of this script: papermill executing the same notebook the same number of
times from a process pool as wide as Runyard's kernel limit, and half as wide (its best
counts).

    .venv/bin/python bench/throughput.py [--runs 200]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import tempfile
import time
from pathlib import Path

import nbformat

from figures import Figure, record
from run_latency import TERMINAL, import_notebook, served, trivial_notebook

TOKEN = "hxtw_bench-throughput-token-0123456789abcdef"
KERNEL_LIMIT = 4  # RUNYARD_MAX_CONCURRENT_KERNELS' default


def bench_runyard(path: Path, runs: int, workdir: Path) -> tuple[float, dict[str, int]]:
    """(runs per minute, count of runs by final status)."""
    with served(workdir, TOKEN) as server:
        http = server.http
        project = import_notebook(http, path)
        time.sleep(5)  # the pool fills after start-up, as it has long done in service
        started = time.perf_counter()
        run_ids = [
            http.post(f"/projects/{project}/runs", json={"inputParams": {"n": i}}).json()["runId"]
            for i in range(runs)
        ]
        pending = set(run_ids)
        statuses: dict[str, int] = {}
        while pending:
            time.sleep(0.25)
            for run_id in list(pending):
                status = http.get(f"/projects/{project}/runs/{run_id}").json()["status"]
                if status in TERMINAL:
                    pending.discard(run_id)
                    statuses[status] = statuses.get(status, 0) + 1
        elapsed = time.perf_counter() - started
    return runs / elapsed * 60, statuses


def _papermill_once(path: str, out: str, n: int) -> None:
    import papermill

    papermill.execute_notebook(
        path, out, parameters={"n": n}, progress_bar=False, log_output=False, kernel_name="python3"
    )


def bench_papermill(path: Path, runs: int, workdir: Path, width: int) -> float:
    """Completed runs per minute from a process pool `width` wide.

    papermill's kernels listen on TCP ports that jupyter_client picks before the kernel binds
    them, so concurrent starts now and then collide ("Address already in use", then "Kernel
    died before replying to kernel_info"). Such a run failed, as it would for a papermill
    user: it is counted out, and said, rather than ending the bench."""
    started = time.perf_counter()
    failed: list[str] = []
    with concurrent.futures.ProcessPoolExecutor(max_workers=width) as pool:
        futures = [
            pool.submit(_papermill_once, str(path), str(workdir / f"out-{i}.ipynb"), i)
            for i in range(runs)
        ]
        for future in futures:
            try:
                future.result()
            except Exception as error:  # a failed run is a figure, not a crash
                failed.append(f"{type(error).__name__}: {error}")
    elapsed = time.perf_counter() - started
    if failed:
        print(f"papermill, pool of {width}: {len(failed)} of {runs} runs failed ({failed[0]})")
    return (runs - len(failed)) / elapsed * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        path = workdir / "trivial.ipynb"
        nbformat.write(trivial_notebook(), path)
        papermill = {
            width: bench_papermill(path, args.runs, workdir, width)
            for width in (KERNEL_LIMIT // 2, KERNEL_LIMIT)
        }
        runyard, statuses = bench_runyard(path, args.runs, workdir)
    best = max(papermill.values())
    print(f"{args.runs} trivial runs triggered at once: completed runs per minute")
    print(f"{'runyard (default settings)':32} {runyard:8.1f}   {statuses}")
    for width, rate in papermill.items():
        print(f"{f'papermill, process pool of {width}':32} {rate:8.1f}")
    print(f"ratio runyard / papermill's best: {runyard / best:.2f}")
    record(
        Figure(
            key="P2",
            what=f"throughput, {args.runs} runs triggered at once",
            value=runyard,
            unit="runs/min",
            baseline=best,
            baseline_what="papermill's best pool",
            target=">= 5x papermill's best",
            met=runyard >= 5 * best,
        )
    )


if __name__ == "__main__":
    main()
