"""The cost of Prometheus metrics on the run-status request: metrics on versus off.

One SQLite store and one completed run; `runyard serve` is started on that store with the
default settings (metrics on), then with RUNYARD_METRICS_ENABLED=false, alternately, for
`--rounds` rounds each. Every round asks for the run's status `--requests` times from one
client, one request after another (so the figure is the time each request takes, not the
machine's throughput), then from 20 concurrent clients for `--seconds`. The baseline is the
same server with metrics off, measured in the same run.

    .venv/bin/python bench/metrics_overhead.py [--rounds 2] [--requests 2000] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from api_load import TOKEN, completed_run, load, stop
from run_latency import free_port, percentile, wait_until_up


def serve(workdir: Path, database_url: str, metrics: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "RUNYARD_HOME": str(workdir / "home"),
        "RUNYARD_DATABASE_URL": database_url,
        "RUNYARD_SECRET_KEY": "bench-metrics-overhead-key",
        "RUNYARD_PORT": str(port),
        "RUNYARD_BOOTSTRAP_TOKEN": TOKEN,
        "RUNYARD_LOG_LEVEL": "warning",
        "RUNYARD_METRICS_ENABLED": "true" if metrics else "false",
        "RUNYARD_KERNEL_POOL_SIZE": "0",
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "runyard"), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return process, f"http://127.0.0.1:{port}"


def sequential(base_url: str, path: str, requests: int) -> list[float]:
    latencies = []
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        wait_until_up(http, 60)
        for _ in range(50):  # warm-up: connections, caches
            http.get(path)
        for _ in range(requests):
            started = time.perf_counter()
            response = http.get(path)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'runyard.db'}"
        process, base_url = serve(workdir, url, metrics=True)
        try:
            path = completed_run(base_url, workdir)
        finally:
            stop(process)

        one: dict[bool, list[float]] = {True: [], False: []}
        many: dict[bool, list[float]] = {True: [], False: []}
        rates: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.rounds):
            for metrics in (True, False):
                process, base_url = serve(workdir, url, metrics)
                try:
                    one[metrics] += sequential(base_url, path, args.requests)
                    count, latencies = asyncio.run(load(base_url, path, 20, args.seconds))
                    many[metrics] += latencies
                    rates[metrics].append(count / args.seconds)
                finally:
                    stop(process)

    def ms(values: list[float], fraction: float) -> str:
        return f"{percentile(values, fraction) * 1000:7.2f}"

    print(f"GET run status, {args.rounds} rounds, same store and run, metrics on vs off")
    print(f"{'':28} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for metrics in (True, False):
        label = "on " if metrics else "off"
        print(
            f"1 client  metrics {label}          {ms(one[metrics], 0.5)}  "
            f"{ms(one[metrics], 0.95)}  {ms(one[metrics], 0.99)}  "
            f"{len(one[metrics]) / sum(one[metrics]):7.0f}"
        )
    for metrics in (True, False):
        label = "on " if metrics else "off"
        print(
            f"20 clients metrics {label}         {ms(many[metrics], 0.5)}  "
            f"{ms(many[metrics], 0.95)}  {ms(many[metrics], 0.99)}  "
            f"{statistics.mean(rates[metrics]):7.0f}"
        )
    on, off = statistics.median(one[True]), statistics.median(one[False])
    print(
        f"overhead, 1 client, median: {(on - off) * 1e6:+.0f} µs per request "
        f"({(on - off) / off * 100:+.1f}%)"
    )
    on_rate, off_rate = statistics.mean(rates[True]), statistics.mean(rates[False])
    print(f"overhead, 20 clients, throughput: {(on_rate - off_rate) / off_rate * 100:+.1f}%")


if __name__ == "__main__":
    main()
