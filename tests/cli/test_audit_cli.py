"""`runyard audit` against a real `runyard serve` process."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from tests.servers import RUNYARD, TOKEN, Server, free_port

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("audit-cli") / "home", free_port())
    running.start()
    yield running
    running.stop()
    running.http.close()


def cli(server: Server, *args: str, expect: int = 0) -> str:
    env = {
        **os.environ,
        "RUNYARD_URL": f"http://127.0.0.1:{server.port}",
        "RUNYARD_TOKEN": TOKEN,
        "COLUMNS": "250",
        "NO_COLOR": "1",
    }
    done = subprocess.run(
        [str(RUNYARD), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == expect, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_an_admin_sees_their_changes_filtered_by_action_prefix(server: Server) -> None:
    cli(server, "users", "create", "bob@example.com", "--role", "editor")
    cli(server, "groups", "create", "Analysts")
    users_only = cli(server, "audit", "--action", "user.")
    assert "user.create" in users_only and "group.create" not in users_only
    assert "admin@runyard.local" in users_only
    everything = cli(server, "audit", "--limit", "1")
    assert "group.create" in everything and "user.create" not in everything
