"""A real `runyard serve` process on a free port, for tests that drive it from outside."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from runyard.config import DEFAULT_RATE_LIMITS

TOKEN = "hxtw_serve-process-test-token-abcdef0123456789"
EXAMPLE = Path(__file__).parents[1] / "examples" / "daily_sales.ipynb"
RUNYARD = Path(sys.executable).parent / "runyard"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """`runyard serve` as a child process in its own session; `http` speaks to it with the
    bootstrap token."""

    def __init__(self, home: Path, port: int, **env: str) -> None:
        self.home = home
        self.port = port
        self.env = {
            **os.environ,
            "RUNYARD_HOME": str(home),
            "RUNYARD_PORT": str(port),
            "RUNYARD_BOOTSTRAP_TOKEN": TOKEN,
            # Tests drive the server hard with one token; a test of the limits passes its own.
            "RUNYARD_RATE_LIMITS": json.dumps(
                {group: "100000/minute" for group in DEFAULT_RATE_LIMITS}
            ),
            # Stop at once, killing what runs; tests of the grace period pass their own.
            "RUNYARD_SHUTDOWN_GRACE_SECONDS": "0",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )

    def start(self) -> None:
        with (self.home.parent / f"serve-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(RUNYARD), "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "runyard serve exited during start-up"
            try:
                if self.http.get("/openapi.json").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("runyard serve did not answer within 30s")

    def kill_hard(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def wait_for(
        self, project_id: str, run_id: str, statuses: set[str], timeout: float = 60
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            run: dict[str, Any] = self.http.get(f"/api/v1/project/{project_id}/run/{run_id}").json()
            if run["status"] in statuses:
                return run
            assert time.monotonic() < deadline, run
            time.sleep(0.1)


@contextmanager
def serving(home: Path, **env: str) -> Iterator[Server]:
    """A started server on a free port, stopped on the way out."""
    running = Server(home, free_port(), **env)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        running.http.close()


@pytest.fixture(scope="module", name="server")
def module_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Server]:
    """One real server for a whole test module; a conftest imports this to offer it."""
    home = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]) / "home"
    with serving(home) as running:
        yield running


def import_example(server: Server) -> str:
    with EXAMPLE.open("rb") as handle:
        response = server.http.post(
            "/api/v1/projects/import",
            params={"publish": "true"},
            files={"file": ("daily_sales.ipynb", handle)},
        )
    assert response.status_code == 201, response.text
    project_id: str = response.json()["project"]["id"]
    return project_id


def cli(
    server: Server,
    *args: str,
    token: str = TOKEN,
    expect: int = 0,
    stdin: str = "",
    env: dict[str, str] | None = None,
) -> str:
    """Run `runyard ARGS…` against `server` as a user would; assert its exit code and return
    what it printed (stdout and stderr)."""
    full_env = {
        **os.environ,
        "RUNYARD_URL": f"http://127.0.0.1:{server.port}",
        "RUNYARD_TOKEN": token,
        "COLUMNS": "250",
        "NO_COLOR": "1",
        **(env or {}),
    }
    done = subprocess.run(
        [str(RUNYARD), *args],
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        # No controlling terminal, so a hidden prompt reads the piped stdin, not a tty.
        start_new_session=True,
    )
    assert done.returncode == expect, done.stdout + done.stderr
    return done.stdout + done.stderr


def cli_add_schedule(server: Server, project_id: str, *options: str) -> tuple[str, str]:
    """Run `runyard schedules add PROJECT OPTIONS…`; return the new schedule's id and what
    the command printed."""
    out = cli(server, "schedules", "add", project_id, *options)
    found = re.search(r"Schedule ([0-9a-f-]{36})", out)
    assert found, out
    return found.group(1), out
