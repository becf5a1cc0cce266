"""GET run status under load: requests per second and latency with 50 concurrent clients.

A real `runyard serve` (default settings) on the embedded SQLite store, and on PostgreSQL
when one answers at RUNYARD_BENCH_POSTGRES_URL (default the test server's `test` database),
is asked for one completed run's status by 50 concurrent connections for 20 s. The load
comes from wrk (Debian's `wrk`, which `make bench` installs as root), a C load generator that
needs a fraction of a core for thousands of requests a second; without it, from an asyncio
loop of httpx clients in this process, which saturates at well under 1,000 requests a second
on its own core and so understates every figure (the table says which one was used). The
baseline, measured in the same run with the same generator: uvicorn serving a bare Starlette
route that answers fixed JSON, the ceiling any endpoint of this stack can reach here.

    .venv/bin/python bench/api_load.py [--clients 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import nbformat
import sqlalchemy as sa

from figures import Figure, record
from run_latency import (
    free_port,
    import_notebook,
    percentile,
    served,
    trivial_notebook,
    wait_until_up,
)

TOKEN = "hxtw_bench-api-load-token-0123456789abcdef"
POSTGRES_ADMIN = os.environ.get(
    "RUNYARD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def status(request):
    return JSONResponse({"status": "COMPLETED", "runId": request.path_params["run_id"]})

app = Starlette(routes=[Route("/api/v1/projects/{project_id}/runs/{run_id}", status)])
"""


async def load(base_url: str, path: str, clients: int, seconds: float) -> tuple[int, list[float]]:
    """Hammer `path` from `clients` concurrent clients for `seconds`; (answers, latencies)."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as http:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await http.get(path)
                if response.status_code != 200:
                    errors += 1
                latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(client() for _ in range(clients)))
    if errors:
        raise SystemExit(f"{errors} requests failed")
    return len(latencies), latencies


@dataclass(frozen=True)
class Load:
    """What a load generator measured: requests answered, their rate and latencies."""

    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float

    def __str__(self) -> str:
        return f"{self.per_second:9.0f} req/s  p50 {self.p50_ms:6.1f}ms  p99 {self.p99_ms:6.1f}ms"


GENERATOR = "wrk" if shutil.which("wrk") else "httpx"


def generate(base_url: str, path: str, clients: int, seconds: float) -> Load:
    """Load `path` from `clients` concurrent connections for `seconds`, with wrk when it is
    installed; every answer must be a 200."""
    if GENERATOR == "httpx":
        count, latencies = asyncio.run(load(base_url, path, clients, seconds))
        return Load(
            count,
            count / seconds,
            percentile(latencies, 0.5) * 1000,
            percentile(latencies, 0.99) * 1000,
        )
    answer = subprocess.run(
        [
            "wrk",
            "--threads=1",
            f"--connections={clients}",
            f"--duration={seconds:g}s",
            "--latency",
            f"--header=Authorization: Bearer {TOKEN}",
            base_url + path,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in answer or "Socket errors" in answer:
        raise SystemExit(f"wrk saw failed requests:\n{answer}")
    count = int(_found(r"(\d+) requests in", answer))
    return Load(
        count,
        count / seconds,
        # Anchored at the line's start: the thread stats above the latency distribution end
        # in percentages too (`Req/Sec 7.07k 2.53k 10.65k 46.50%`).
        _milliseconds(_found(r"^\s+50%\s+(\S+)", answer)),
        _milliseconds(_found(r"^\s+99%\s+(\S+)", answer)),
    )


def _found(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise SystemExit(f"unexpected wrk output:\n{text}")
    return match.group(1)


def _milliseconds(text: str) -> float:
    """wrk's latency, e.g. `850.00us`, `12.31ms` or `1.02s`, in milliseconds."""
    for suffix, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(suffix):
            return float(text.removesuffix(suffix)) * scale
    raise SystemExit(f"unexpected wrk latency: {text}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def completed_run(http: httpx.Client, workdir: Path) -> str:
    """Import the trivial notebook, run it once; the path of its status."""
    path = workdir / "trivial.ipynb"
    nbformat.write(trivial_notebook(), path)
    project = import_notebook(http, path)
    run_id = http.post(f"/projects/{project}/runs", json={}).json()["runId"]
    while http.get(f"/projects/{project}/runs/{run_id}").json()["status"] != "COMPLETED":
        time.sleep(0.1)
    return f"/api/v1/projects/{project}/runs/{run_id}"


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux's /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_runyard(
    workdir: Path, database_url: str | None, clients: int, seconds: float
) -> tuple[Load, float]:
    """The load's figures, and the server's CPU time per request in microseconds: steadier
    than requests a second on shared cores, where the load generator competes too."""
    store = {"RUNYARD_DATABASE_URL": database_url} if database_url else {}
    with served(workdir, TOKEN, **store) as server:
        path = completed_run(server.http, workdir)
        time.sleep(3)  # the run's pages render right after it completes; let them
        used = cpu_seconds(server.process.pid)
        measured = generate(server.base_url, path, clients, seconds)
        used = cpu_seconds(server.process.pid) - used
        return measured, used / measured.requests * 1e6


def bench_bare(workdir: Path, clients: int, seconds: float) -> Load:
    (workdir / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port)],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base_url) as http:
            wait_until_up(http, 30)
        return generate(base_url, "/api/v1/projects/p/runs/r", clients, seconds)
    finally:
        stop(process)


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A fresh database on the PostgreSQL server, dropped afterwards; None if none answers."""
    name = f"runyard_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError:
        admin.dispose()
        yield None
        return
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    print(
        f"GET run status, {args.clients} concurrent clients for {args.seconds:g}s "
        f"(load from {GENERATOR})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        bare = bench_bare(workdir, args.clients, args.seconds)
        print(f"{'bare uvicorn + Starlette':28} {bare}")
        sqlite, sqlite_cpu = bench_runyard(workdir, None, args.clients, args.seconds)
        print(f"{'runyard, SQLite':28} {sqlite}  server CPU {sqlite_cpu:.0f}us/request")
        figures(f"SQLite, load from {GENERATOR}", sqlite, bare, targets=True)
        with postgres_database() as postgres:
            if postgres is None:
                print(f"{'runyard, PostgreSQL':28} skipped: no server at {POSTGRES_ADMIN}")
            else:
                result, cpu = bench_runyard(workdir, postgres, args.clients, args.seconds)
                print(f"{'runyard, PostgreSQL':28} {result}  server CPU {cpu:.0f}us/request")
                figures(f"PostgreSQL, load from {GENERATOR}", result, bare, targets=False)


def figures(store: str, measured: Load, bare: Load, *, targets: bool) -> None:
    """P3's figures for the table of `bench/all.py`; the targets are the embedded store's."""
    record(
        Figure(
            key="P3" if targets else "",
            what=f"GET run status req/s, {store}",
            value=measured.per_second,
            unit="req/s",
            baseline=bare.per_second,
            baseline_what="bare Starlette",
            target=">= 3,000 req/s" if targets else "",
            met=measured.per_second >= 3000 if targets else None,
        )
    )
    record(
        Figure(
            key="P3" if targets else "",
            what=f"GET run status p99, {store}",
            value=measured.p99_ms,
            unit="ms",
            baseline=bare.p99_ms,
            baseline_what="bare Starlette",
            target="<= 20 ms" if targets else "",
            met=measured.p99_ms <= 20 if targets else None,
        )
    )


if __name__ == "__main__":
    main()
