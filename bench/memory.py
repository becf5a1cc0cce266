"""Memory: an idle `runyard serve` (no kernels), before and after work, and each kernel of
its pool.

Starts `runyard serve` on the embedded store with the pool off and reads its resident
memory (VmRSS) once it answers and has settled ("idle after start"); then has it run a
trivial notebook `--runs` times, one after the other, lets it settle again and reads it once
more ("idle after N runs": what an operator sees of a server that has done some work, its
renderings included). Then with a pool of two it reads the resident memory of each pooled
kernel's process tree (in its sandbox where bubblewrap works here: bwrap, its init and the
kernel). The baseline, measured in the same run: a plain ipykernel started the way
papermill starts one (jupyter_client, no sandbox).

    .venv/bin/python bench/memory.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel

from figures import Figure, record
from run_latency import import_notebook, served, time_runs, trivial_notebook
from runyard.kernel.watch import tree_usage

TOKEN = "hxtw_bench-memory-token-0123456789abcdef"
SETTLE_SECONDS = 5.0
TARGET_MB = 120


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def children(pid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(name))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        path = workdir / "trivial.ipynb"
        nbformat.write(trivial_notebook(), path)
        with served(
            workdir, TOKEN, RUNYARD_KERNEL_POOL_SIZE="0", RUNYARD_RATE_LIMITS_ENABLED="false"
        ) as idle:
            time.sleep(SETTLE_SECONDS)
            serve_mb = resident_mb(idle.process.pid)
            project_id = import_notebook(idle.http, path)
            # time_runs makes one more run first; each run's page is then read, as
            # a reader would, so what serving one keeps counts too.
            time_runs(idle.http, project_id, args.runs)
            for run in idle.http.get(f"/projects/{project_id}/runs").json()["runs"]:
                page = idle.http.get(f"/projects/{project_id}/runs/{run['runId']}/html")
                page.raise_for_status()
            time.sleep(SETTLE_SECONDS)
            worked_mb = resident_mb(idle.process.pid)
        with served(workdir, TOKEN, RUNYARD_KERNEL_POOL_SIZE="2") as pooled:
            time.sleep(SETTLE_SECONDS * 2)  # two kernels start, one after the other
            kernels = children(pooled.process.pid)
            per_kernel = [tree_usage(pid)[0] / 2**20 for pid in kernels]
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        time.sleep(1)
        pid = manager.provisioner.process.pid  # type: ignore[union-attr]
        plain_mb = tree_usage(pid)[0] / 2**20
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    after_runs = f"idle runyard serve after {args.runs + 1} runs"
    print("resident memory (RSS)")
    print(f"{'idle runyard serve, after start':40} {serve_mb:7.1f} MB")
    print(f"{after_runs:40} {worked_mb:7.1f} MB")
    for index, size in enumerate(per_kernel):
        print(f"{f'pooled kernel {index + 1} (its whole tree)':40} {size:7.1f} MB")
    print(f"{'plain ipykernel (papermill-style)':40} {plain_mb:7.1f} MB")
    for what, value in (
        ("RSS of an idle runyard serve (no kernels), after start", serve_mb),
        (f"RSS of an idle runyard serve (no kernels), after {args.runs + 1} runs", worked_mb),
    ):
        record(
            Figure(
                key="P5",
                what=what,
                value=value,
                unit="MB",
                target=f"<= {TARGET_MB} MB",
                met=value <= TARGET_MB,
            )
        )
    record(
        Figure(
            key="P5",
            what="RSS of a pooled kernel (its whole tree)",
            value=max(per_kernel),
            unit="MB",
            baseline=plain_mb,
            baseline_what="plain ipykernel",
        )
    )


if __name__ == "__main__":
    main()
