"""The `runyard` CLI against a real `runyard serve` process."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from tests.servers import EXAMPLE, RUNYARD, Server, cli, cli_add_schedule

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


@pytest.fixture(scope="module")
def project_id(server: Server) -> str:
    out = cli(server, "projects", "import", str(EXAMPLE), "--publish")
    assert "Published version 1" in out
    match = re.search(r"Project .* ([0-9a-f-]{36})", out)
    assert match, out
    return match.group(1)


def test_projects_list_shows_the_imported_project(server: Server, project_id: str) -> None:
    out = cli(server, "projects", "list")
    assert project_id in out
    assert "Daily sales summary" in out


def test_trigger_waits_for_the_run_and_log_prints_its_output(
    server: Server, project_id: str
) -> None:
    out = cli(
        server,
        "runs",
        "trigger",
        project_id,
        "--param",
        "region=LATAM",
        "--param",
        "days=2",
        "--wait",
    )
    assert "COMPLETED" in out
    run_id = re.search(r"Run ([0-9a-f-]{36})", out)
    assert run_id
    log = cli(server, "runs", "log", project_id, run_id.group(1))
    assert "LATAM" in log
    assert run_id.group(1) in cli(server, "runs", "list", project_id)
    status = cli(server, "runs", "status", project_id, run_id.group(1), "--json")
    assert '"status": "COMPLETED"' in status


def test_a_bad_parameter_is_reported_with_the_servers_reason(
    server: Server, project_id: str
) -> None:
    out = cli(server, "runs", "trigger", project_id, "--param", "days=ten", expect=1)
    assert "inputParams.days" in out


def test_schedules_can_be_added_listed_paused_resumed_and_deleted(
    server: Server, project_id: str
) -> None:
    sid, out = cli_add_schedule(
        server,
        project_id,
        "--cadence",
        "DAILY",
        "--at",
        "07:00",
        "--timezone",
        "America/New_York",
        "-p",
        "region=AMER",
    )
    assert "Every day at 07:00" in out
    assert sid in cli(server, "schedules", "list", project_id)
    assert "paused" in cli(server, "schedules", "pause", project_id, sid)
    assert "resumed" in cli(server, "schedules", "resume", project_id, sid)
    assert "-04:00" in cli(server, "schedules", "next", project_id, sid) or "-05:00" in cli(
        server, "schedules", "next", project_id, sid
    )
    bad = cli(
        server,
        "schedules",
        "add",
        project_id,
        "--cadence",
        "CUSTOM",
        "--cron",
        "99 * * * *",
        expect=1,
    )
    assert "custom.cron" in bad
    assert "Deleted" in cli(server, "schedules", "delete", project_id, sid)


def test_without_a_token_the_cli_says_how_to_give_one(server: Server, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RUNYARD_TOKEN"}
    done = subprocess.run(
        [str(RUNYARD), "projects", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "RUNYARD_TOKEN" in done.stderr
