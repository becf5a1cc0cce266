"""Running a published Hex client's driver script in the client's own virtualenv.

Each client lives in a virtualenv of its own under .compat/ (`make compat`, which `make test`
runs, installs them from compat/<client>/uv.lock): the Airflow provider needs Airflow 2 and
SQLAlchemy 1.4, which cannot share Runyard's environment. A test runs a driver script from
tests/compat/drivers in that virtualenv against a real `runyard serve` and reads the JSON
the driver prints last.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import service_missing
from tests.servers import Server

COMPAT = Path(__file__).parents[2] / ".compat"
DRIVERS = Path(__file__).parent / "drivers"


@dataclass
class Driven:
    """What a driver printed, and the JSON outcome on its last line."""

    exit_code: int
    output: str
    outcome: Any


@dataclass
class Projects:
    """The published projects each module's clients run (tests/compat/conftest.py)."""

    quick: str
    failing: str
    slow: str


def client_python(client: str) -> Path:
    python = COMPAT / client / "bin" / "python"
    if not python.exists():
        service_missing(
            f"the {client} client is not installed in .compat/{client}: run `make compat`"
        )
    return python


def outside_env() -> dict[str, str]:
    """This environment without Runyard's settings and virtualenv, for a client's process."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("RUNYARD_", "VIRTUAL_ENV"))}


def in_client_env(
    client: str, program: str, *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run one of the client virtualenv's programs (`python`, `airflow`, `hex`…) outside
    Runyard's environment, with `env` added."""
    return subprocess.run(
        [str(client_python(client).parent / program), *args],
        env={**outside_env(), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def drive(client: str, driver: str, *args: str, env: dict[str, str]) -> Driven:
    """Run tests/compat/drivers/DRIVER with the client's Python."""
    done = in_client_env(client, "python", str(DRIVERS / driver), *args, env=env)
    output = done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    try:
        outcome = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        outcome = None
    assert outcome is not None, (
        f"{driver} printed no outcome (exit {done.returncode}):\n{output[-4000:]}"
    )
    return Driven(done.returncode, output, outcome)


def printed(server: Server, project_id: str, run_id: str) -> str:
    """What the run's notebook printed, from its log."""
    response = server.http.get(f"/api/v1/projects/{project_id}/runs/{run_id}/log")
    assert response.status_code == 200, response.text
    return response.text
