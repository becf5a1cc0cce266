"""The cost of Prometheus metrics on the run-status request: metrics on versus off.

One SQLite store and one completed run; two `runyard serve` processes on that store, one
with the default settings (metrics on), one with RUNYARD_METRICS_ENABLED=false (the
baseline), measured in the same run:
1. one client asks each server for the run's status in turn, `--requests` times, so that
   load from elsewhere on the machine weighs on both alike (the time each request takes);
2. 20 concurrent clients ask one server, then the other, for `--seconds`, `--rounds` times
   (throughput);
3. the metrics middleware's own cost per request, in process, around a bare ASGI answer.

    .venv/bin/python bench/metrics_overhead.py [--rounds 3] [--requests 3000] [--seconds 5]
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
from typing import Any

import httpx

from api_load import TOKEN, completed_run, load, stop
from figures import Figure, record
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


def paired(servers: dict[bool, str], path: str, requests: int) -> dict[bool, list[float]]:
    """Ask both servers in turn, one request each, `requests` times: load from elsewhere on
    the machine then weighs on both alike."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    clients = {on: httpx.Client(base_url=url, headers=headers) for on, url in servers.items()}
    latencies: dict[bool, list[float]] = {True: [], False: []}
    try:
        for http in clients.values():
            wait_until_up(http, 60)
            for _ in range(50):  # warm-up: connections, caches
                http.get(path)
        for index in range(requests):
            order = (True, False) if index % 2 else (False, True)
            for on in order:
                started = time.perf_counter()
                response = clients[on].get(path)
                latencies[on].append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
    finally:
        for http in clients.values():
            http.close()
    return latencies


async def _middleware_cost(wrapped: bool, requests: int) -> float:
    """Seconds per request of a bare ASGI answer, alone or inside the metrics middleware."""
    from fastapi.routing import APIRoute

    from runyard.api.operations import HttpMetrics

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    def get_run_status() -> None:
        """A stand-in endpoint: the route, as the router leaves it in the scope, is what
        the middleware reads."""

    app = HttpMetrics(bare) if wrapped else bare
    route = APIRoute("/projects/{projectId}/runs/{runId}", get_run_status)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/projects/p1/runs/r1",
        "route": route,
        "path_params": {"projectId": "p1", "runId": "r1"},
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(_message: Any) -> None:
        return None

    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - started) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'runyard.db'}"
        process, base_url = serve(workdir, url, metrics=True)
        try:
            with httpx.Client(
                base_url=f"{base_url}/api/v1",
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=60,
            ) as http:
                wait_until_up(http, 60)
                path = completed_run(http, workdir)
        finally:
            stop(process)

        started = {on: serve(workdir, url, on) for on in (True, False)}
        try:
            one = paired({on: base for on, (_, base) in started.items()}, path, args.requests)
            many: dict[bool, list[float]] = {True: [], False: []}
            rates: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(args.rounds):
                for on in (True, False):
                    count, latencies = asyncio.run(load(started[on][1], path, 20, args.seconds))
                    many[on] += latencies
                    rates[on].append(count / args.seconds)
        finally:
            for process, _ in started.values():
                stop(process)

    alone = min(asyncio.run(_middleware_cost(False, 20_000)) for _ in range(3))
    wrapped = min(asyncio.run(_middleware_cost(True, 20_000)) for _ in range(3))

    def ms(values: list[float], fraction: float) -> str:
        return f"{percentile(values, fraction) * 1000:7.2f}"

    print(f"GET run status, same store and run, metrics on vs off ({args.requests} paired")
    print(f"requests from 1 client; {args.rounds} x {args.seconds:g} s from 20 clients each)")
    print(f"{'':28} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for label, samples, rate in (
        ("1 client   metrics on ", one[True], len(one[True]) / sum(one[True])),
        ("1 client   metrics off", one[False], len(one[False]) / sum(one[False])),
        ("20 clients metrics on ", many[True], statistics.mean(rates[True])),
        ("20 clients metrics off", many[False], statistics.mean(rates[False])),
    ):
        print(
            f"{label}       {ms(samples, 0.5)}  {ms(samples, 0.95)}  {ms(samples, 0.99)}  "
            f"{rate:7.0f}"
        )
    on, off = statistics.median(one[True]), statistics.median(one[False])
    print(
        f"overhead, 1 client, median: {(on - off) * 1e6:+.0f} µs per request "
        f"({(on - off) / off * 100:+.1f}%)"
    )
    on_rate, off_rate = statistics.mean(rates[True]), statistics.mean(rates[False])
    print(f"overhead, 20 clients, throughput: {(on_rate - off_rate) / off_rate * 100:+.1f}%")
    record(
        Figure(
            key="",
            what="GET run status req/s, 20 clients, /metrics on",
            value=on_rate,
            unit="req/s",
            baseline=off_rate,
            baseline_what="metrics off",
        )
    )
    print(
        f"the metrics middleware alone (in process, no I/O): {(wrapped - alone) * 1e6:.1f} µs "
        "per request"
    )


if __name__ == "__main__":
    main()
