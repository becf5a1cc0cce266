"""Real brokers, real processes: `runyard serve` with the celery executor and `runyard worker`
processes on a fresh PostgreSQL database, over Redis and over RabbitMQ.

Redis must answer at RUNYARD_TEST_REDIS_URL (default 127.0.0.1:6379) and RabbitMQ at
RUNYARD_TEST_RABBITMQ_URL (default guest/guest on 127.0.0.1:5672). With CI=true a missing
broker is a failure; elsewhere its tests are skipped with a message, as for PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from kombu import Connection, Exchange, Queue

from runyard.kernel.orphans import kill_orphaned_kernel
from runyard.store.db import upgrade
from tests.conftest import PG_ADMIN_URL, _pg_available, service_missing
from tests.servers import RUNYARD, Server, free_port

BROKERS = {
    "redis": os.environ.get("RUNYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "rabbitmq": os.environ.get("RUNYARD_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}

PIDBOX_BINDINGS = "_kombu.binding.celery.pidbox"
TERMINAL = {"COMPLETED", "ERRORED", "KILLED", "UNABLE_TO_ALLOCATE_KERNEL"}


def _broker_problem(url: str) -> str | None:
    """None if the broker answers, else why it does not."""
    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0)
    except Exception as error:
        return str(error).splitlines()[0]
    return None


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("rabbitmq", marks=pytest.mark.rabbitmq),
    ],
)
def broker_url(request: pytest.FixtureRequest) -> str:
    url = BROKERS[request.param]
    problem = _broker_problem(url)
    if problem is not None:
        shown = Connection(url).as_uri()  # the password masked
        service_missing(f"The {request.param} broker is not reachable at {shown}: {problem}")
    return url


@pytest.fixture
def queue(broker_url: str) -> Iterator[str]:
    """A queue of this test's own on the shared broker, removed afterwards."""
    name = f"runyard-test-{uuid.uuid4().hex[:12]}"
    yield name
    remove_queue(broker_url, name)


def remove_queue(url: str, name: str) -> None:
    """Delete the queue (and the exchange Celery made for it) on either broker."""
    with Connection(url) as connection:
        channel = connection.default_channel
        exchange = Exchange(name, type="direct")
        # Declared first: kombu's Redis transport deletes only queues it knows.
        bound = Queue(name, exchange, routing_key=name)(channel)
        bound.declare()
        bound.delete()
        exchange(channel).delete()
    if url.startswith("redis"):
        client = redis.Redis.from_url(url)
        try:
            # A message held by a worker killed with -9 waits in kombu's `unacked` hash
            # until the visibility timeout (days); drop this queue's, lest it be restored.
            for tag, raw in client.hscan_iter("unacked"):
                if json.loads(raw)[-1] == name:
                    client.hdel("unacked", tag)
                    client.zrem("unacked_index", tag)
        finally:
            client.close()


def forget_redis_nodes(url: str, pids: list[int]) -> None:
    """Drop the remote-control bindings that workers killed with -9 left in Redis."""
    client = redis.Redis.from_url(url)
    try:
        for member in client.smembers(PIDBOX_BINDINGS):
            if any(f"runyard-{pid}@".encode() in member for pid in pids):
                client.srem(PIDBOX_BINDINGS, member)
    finally:
        client.close()


@pytest.fixture(scope="module")
def template_database() -> Iterator[str]:
    """A migrated PostgreSQL database that each test's database is copied from."""
    problem = _pg_available()
    if problem is not None:
        service_missing(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {problem}")
    name = f"runyard_worker_template_{uuid.uuid4().hex[:10]}"
    with _new_database(name) as url:
        upgrade(url)
        yield name


@pytest.fixture
def database_url(template_database: str) -> Iterator[str]:
    """A fresh PostgreSQL database at the current revision (copied: faster than migrating),
    so workers and the server may start at once."""
    with _new_database(f"runyard_worker_test_{uuid.uuid4().hex[:10]}", template_database) as url:
        yield url


@contextmanager
def _new_database(name: str, template: str | None = None) -> Iterator[str]:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"{copy}'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes; it only waits to be reaped by its parent.
    return "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]


class Worker:
    """A `runyard worker` child process in its own session, logging to a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(RUNYARD), "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until the worker consumes its queue and its remote-control queue."""
        deadline = time.monotonic() + timeout
        while f"runyard-{self.pid}@" not in self.log() or " ready." not in self.log():
            assert self.process.poll() is None, f"runyard worker exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"runyard worker not ready:\n{self.log()}"
            time.sleep(0.1)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM (Celery's warm shutdown) and wait for the exit; return the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill_hard(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def wait_stopped(self) -> None:
        """Wait for the exit asked for by a SIGTERM; kill the worker if it does not come."""
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill_hard()


class Cluster:
    """`runyard serve` (API and scheduler, no kernels) plus `runyard worker` processes, all
    on one database and one broker queue."""

    def __init__(self, tmp_path: Path, database_url: str, broker_url: str, queue: str) -> None:
        self.tmp_path = tmp_path
        self.database_url = database_url
        self.broker_url = broker_url
        self.queue = queue
        self.server: Server | None = None
        self.workers: list[Worker] = []
        self.kernel_pids: set[int] = set()

    def start(self, workers: int = 1, **env: str) -> Server:
        """Start the server and `workers` workers at once (the store is migrated already);
        return when all of them are ready."""
        settings = {
            "RUNYARD_EXECUTOR": "celery",
            "RUNYARD_BROKER_URL": self.broker_url,
            "RUNYARD_BROKER_QUEUE": self.queue,
            "RUNYARD_DATABASE_URL": self.database_url,
            "RUNYARD_SECRET_KEY": "worker-test-secret-key",
            "RUNYARD_MAX_CONCURRENT_KERNELS": "1",
            "RUNYARD_LOG_LEVEL": "info",
        }
        self.server = Server(self.tmp_path / "home", free_port(), **{**settings, **env})
        starting = [self._spawn_worker() for _ in range(workers)]
        self.server.start()
        for worker in starting:
            worker.wait_ready()
        return self.server

    def start_workers(self, count: int) -> list[Worker]:
        """Start `count` more workers at once; return when all of them are ready."""
        started = [self._spawn_worker() for _ in range(count)]
        for worker in started:
            worker.wait_ready()
        return started

    def _spawn_worker(self) -> Worker:
        assert self.server is not None
        log_path = self.tmp_path / f"worker-{len(self.workers)}.log"
        worker = Worker(dict(self.server.env), log_path)
        self.workers.append(worker)
        return worker

    def worker_of(self, run_id: str) -> str | None:
        """The run's `worker` column: `host:pid:nonce` of the process that claimed it."""
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                worker: str | None = conn.execute(
                    sa.text("SELECT worker FROM runs WHERE id = :id"), {"id": run_id}
                ).scalar_one()
                return worker
        finally:
            engine.dispose()

    def events(self, project_id: str, run_id: str) -> list[dict[str, Any]]:
        assert self.server is not None
        run = self.server.http.get(
            f"/api/v1/projects/{project_id}/runs/{run_id}",
            headers={"enable-expanded-stats": "true"},
        ).json()
        events: list[dict[str, Any]] = run["stateEvents"]
        return events

    def kernel_pid(self, project_id: str, run_id: str, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = [
                e["value"] for e in self.events(project_id, run_id) if e["type"] == "KERNEL_STARTED"
            ]
            if started:
                pid = int(started[0].removeprefix("pid "))
                self.kernel_pids.add(pid)
                return pid
            time.sleep(0.1)
        raise AssertionError(f"the kernel of run {run_id} never started")

    def stop(self) -> None:
        # All at once: each takes a moment to shut down.
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            worker.wait_stopped()
        if self.broker_url.startswith("redis"):
            forget_redis_nodes(self.broker_url, [worker.pid for worker in self.workers])
        if self.server is not None:
            self.server.stop()
            self.server.http.close()
        # A kernel orphaned by a worker killed with -9 must not outlive the test.
        for pid in self.kernel_pids:
            kill_orphaned_kernel(pid)


@pytest.fixture
def cluster(tmp_path: Path, database_url: str, broker_url: str, queue: str) -> Iterator[Cluster]:
    running = Cluster(tmp_path, database_url, broker_url, queue)
    try:
        yield running
    finally:
        running.stop()
