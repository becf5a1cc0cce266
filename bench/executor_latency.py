"""Trigger -> COMPLETED latency of a trivial notebook: local executor against Celery workers.

In the same run of this script, on one machine and one SQLite store per variant: `runyard
serve` with the local executor, then `runyard serve` with RUNYARD_EXECUTOR=celery plus one
`runyard worker`, over Redis and over RabbitMQ (a broker that does not answer is skipped).
Runs go one at a time; prints the median and p95 of each and the broker's cost over local.

    .venv/bin/python bench/executor_latency.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx
import nbformat
from kombu import Connection, Exchange, Queue

from figures import Figure, record
from run_latency import free_port, percentile, time_runs, trivial_notebook, wait_until_up

TOKEN = "hxtw_bench-executor-latency-token-0123456789abcdef"
RUNYARD = Path(sys.executable).parent / "runyard"
BROKERS = {
    "redis": os.environ.get("RUNYARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "rabbitmq": os.environ.get("RUNYARD_BENCH_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}


def broker_answers(url: str) -> bool:
    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0)
    except Exception:
        return False
    return True


def remove_queue(url: str, name: str) -> None:
    with Connection(url) as connection:
        channel = connection.default_channel
        exchange = Exchange(name, type="direct")
        # Declared first: kombu's Redis transport deletes only queues it knows.
        bound = Queue(name, exchange, routing_key=name)(channel)
        bound.declare()
        bound.delete()
        exchange(channel).delete()


def spawn(command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(RUNYARD), command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def measure(notebook: Path, runs: int, workdir: Path, **settings: str) -> list[float]:
    port = free_port()
    env = {
        **os.environ,
        "RUNYARD_HOME": str(workdir / "home"),
        "RUNYARD_PORT": str(port),
        "RUNYARD_BOOTSTRAP_TOKEN": TOKEN,
        "RUNYARD_SECRET_KEY": "bench-executor-latency",
        "RUNYARD_LOG_LEVEL": "warning",
        # The benchmark polls every 10 ms, far past Hex's 30 requests a minute per token.
        "RUNYARD_RATE_LIMITS_ENABLED": "false",
        **settings,
    }
    processes = [spawn("serve", env)]
    http = httpx.Client(
        base_url=f"http://127.0.0.1:{port}/api/v1",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    try:
        wait_until_up(http, 60)
        if settings.get("RUNYARD_EXECUTOR") == "celery":
            # Started once the server has migrated the store (workers never migrate).
            processes.append(spawn("worker", env))
        project = http.post(
            "/projects/import",
            params={"publish": "true"},
            files={"file": ("bench.ipynb", notebook.read_bytes())},
        ).json()
        project_id = project["project"]["id"]
        return time_runs(http, project_id, runs)
    finally:
        http.close()
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    rows: list[tuple[str, list[float] | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        notebook = Path(tmp) / "trivial.ipynb"
        nbformat.write(trivial_notebook(), notebook)
        rows.append(("local", measure(notebook, args.runs, Path(tmp) / "local")))
        for name, url in BROKERS.items():
            if not broker_answers(url):
                rows.append((f"celery/{name}", None))
                continue
            queue = f"runyard-bench-{uuid.uuid4().hex[:8]}"
            try:
                latencies = measure(
                    notebook,
                    args.runs,
                    Path(tmp) / name,
                    RUNYARD_EXECUTOR="celery",
                    RUNYARD_BROKER_URL=url,
                    RUNYARD_BROKER_QUEUE=queue,
                    RUNYARD_MAX_CONCURRENT_KERNELS="1",
                )
            finally:
                remove_queue(url, queue)
            rows.append((f"celery/{name}", latencies))
    print(f"trigger -> COMPLETED, trivial 3-cell notebook, {args.runs} runs one at a time")
    print(f"{'':16} {'median':>9} {'p95':>9} {'vs local':>10}")
    local = statistics.median(rows[0][1] or [0.0])
    for name, values in rows:
        if values is None:
            print(f"{name:16} broker not reachable, skipped")
            continue
        median = statistics.median(values)
        print(
            f"{name:16} {median * 1000:8.0f}ms {percentile(values, 0.95) * 1000:8.0f}ms "
            f"{(median - local) * 1000:+9.0f}ms"
        )
        if name != "local":
            record(
                Figure(
                    key="",
                    what=f"trigger->COMPLETED median, {name} executor",
                    value=median * 1000,
                    unit="ms",
                    baseline=local * 1000,
                    baseline_what="local executor",
                )
            )


if __name__ == "__main__":
    main()
