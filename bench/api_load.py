"""GET run status under load: requests per second and latency with 50 concurrent clients.

A real `runyard serve` (default settings) on the embedded SQLite store, and on PostgreSQL
when one answers at RUNYARD_BENCH_POSTGRES_URL (default the test server's `test` database),
is asked for one completed run's status by 50 concurrent clients for 20 s (an asyncio loop
of httpx clients, in this process). The baseline, measured in the same run with the same
load generator: uvicorn serving a bare Starlette route that answers fixed JSON, the ceiling
any endpoint of this stack (and this load generator, on this machine) can reach.

    .venv/bin/python bench/api_load.py [--clients 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import nbformat
import sqlalchemy as sa

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


def bench_runyard(workdir: Path, database_url: str | None, clients: int, seconds: float) -> str:
    store = {"RUNYARD_DATABASE_URL": database_url} if database_url else {}
    with served(workdir, TOKEN, **store) as server:
        path = completed_run(server.http, workdir)
        count, latencies = asyncio.run(load(server.base_url, path, clients, seconds))
    return row(count, latencies, seconds)


def bench_bare(workdir: Path, clients: int, seconds: float) -> str:
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
        count, latencies = asyncio.run(
            load(base_url, "/api/v1/projects/p/runs/r", clients, seconds)
        )
    finally:
        stop(process)
    return row(count, latencies, seconds)


def row(count: int, latencies: list[float], seconds: float) -> str:
    return (
        f"{count / seconds:9.0f} req/s  p50 {percentile(latencies, 0.5) * 1000:6.1f}ms"
        f"  p99 {percentile(latencies, 0.99) * 1000:6.1f}ms"
    )


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
    print(f"GET run status, {args.clients} concurrent clients for {args.seconds:g}s")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print(f"{'bare uvicorn + Starlette':28} {bench_bare(workdir, args.clients, args.seconds)}")
        sqlite = bench_runyard(workdir, None, args.clients, args.seconds)
        print(f"{'runyard, SQLite':28} {sqlite}")
        with postgres_database() as postgres:
            if postgres is None:
                print(f"{'runyard, PostgreSQL':28} skipped: no server at {POSTGRES_ADMIN}")
            else:
                result = bench_runyard(workdir, postgres, args.clients, args.seconds)
                print(f"{'runyard, PostgreSQL':28} {result}")


if __name__ == "__main__":
    main()
