"""Every benchmark, one after the other, then one table of their headline figures.

    .venv/bin/python bench/all.py          (what `make bench` runs)

Each bench prints its own detailed figures as it goes; the table at the end holds, per
figure, Runyard's value, the baseline measured in the same run on the same machine, their
ratio, and the target from issue 10 with whether this run met it. The figures depend on the
machine and on what else runs on it: compare ratios, not absolute values, between machines.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import FIGURES_FILE, Figure, read

BENCHES = [
    "run_latency.py",
    "throughput.py",
    "api_load.py",
    "memory.py",
    "scheduler_capacity.py",
    "project_visibility.py",
    "executor_latency.py",
    "metrics_overhead.py",
]


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".strip()


def table(figures: list[Figure]) -> str:
    rows = [("", "figure", "runyard", "baseline (same run)", "ratio", "target", "met")]
    for f in figures:
        ratio = f.ratio
        rows.append(
            (
                f.key,
                f.what,
                number(f.value, f.unit),
                f"{number(f.baseline, f.unit)} {f.baseline_what}".strip(),
                "" if ratio is None else f"{ratio:.2f}x",
                f.target,
                {True: "yes", False: "NO", None: ""}[f.met],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> None:
    here = Path(__file__).parent
    failed: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "figures.jsonl"
        env = {**os.environ, FIGURES_FILE: str(path)}
        for bench in BENCHES:
            print(f"\n=== {bench}", flush=True)
            if subprocess.run([sys.executable, str(here / bench)], env=env).returncode != 0:
                failed.append(bench)
        figures = read(path)
    minutes = (time.monotonic() - started) / 60
    print(
        f"\n=== all benches, {minutes:.0f} min on {platform.node()} "
        f"({os.cpu_count()} CPUs, load average now {os.getloadavg()[0]:.1f})\n"
    )
    print(table(figures))
    if failed:
        raise SystemExit(f"\nthese benches failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
