"""hex-toolkit 0.6.0, Hex's Python SDK and `hex` CLI, against a real Runyard. The SDK parses
every answer into its pydantic models, so a field of the wrong shape or type fails here. It
calls the plural paths (`/v1/projects/{id}/runs…`) under a base URL ending in `/api`."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.compat.clients import Projects, drive, in_client_env, printed
from tests.embedded_pages import followed, frame_of, path_of
from tests.servers import TOKEN, Server

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

CLIENT = "hex-toolkit"


def hex_env(server: Server) -> dict[str, str]:
    return {
        "HEX_API_KEY": TOKEN,
        "HEX_API_BASE_URL": f"http://127.0.0.1:{server.port}/api",
        # One line per record in rich's tables, and no colour codes in what we read.
        "COLUMNS": "250",
        "NO_COLOR": "1",
    }


def sdk(server: Server, request: dict[str, Any]) -> Any:
    return drive(CLIENT, "hex_toolkit_sdk.py", json.dumps(request), env=hex_env(server)).outcome


def hex_cli(server: Server, *args: str) -> str:
    done = in_client_env(CLIENT, "hex", *args, env=hex_env(server), timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def test_the_sdk_pages_through_every_project_with_its_sharing(
    server: Server, projects: Projects
) -> None:
    outcome = sdk(server, {"projects": {"limit": 2, "include_sharing": True}})
    pages = outcome["pages"]
    assert len(pages) == 2
    listed = [project for page in pages for project in page["values"]]
    assert {p["id"] for p in listed} == {projects.quick, projects.failing, projects.slow}
    assert all(p["sharing"]["workspace"]["access"] == "NONE" for p in listed)
    assert pages[-1]["pagination"]["after"] is None


def test_the_sdk_reads_one_project_with_its_creator_and_sharing(
    server: Server, projects: Projects
) -> None:
    project = sdk(server, {"project": projects.quick})["project"]
    assert project["title"] == "daily_sales"
    assert project["creator"]["email"] == "admin@runyard.local"
    assert project["sharing"]["users"] == []
    assert project["lastPublishedAt"] is not None


def test_the_sdk_runs_a_project_polls_it_to_the_end_and_lists_it(
    server: Server, projects: Projects
) -> None:
    outcome = sdk(server, {"run": projects.quick, "input_params": {"region": "LATAM"}})
    run_id = outcome["started"]["runId"]
    assert outcome["started"]["projectVersion"] == 1
    assert outcome["ended"]["status"] == "COMPLETED"
    assert outcome["ended"]["elapsedTime"] > 0
    listed = outcome["listed"]["runs"]
    assert run_id in [run["runId"] for run in listed]
    assert all(run["status"] == "COMPLETED" for run in listed)
    assert "LATAM: 3 days" in printed(server, projects.quick, run_id)


def test_the_sdk_cancels_a_running_run(server: Server, projects: Projects) -> None:
    outcome = sdk(server, {"cancel": projects.slow})
    assert outcome["answer"] is None  # a 204 with no body
    assert outcome["ended"]["status"] == "KILLED"


def test_the_cli_lists_projects_runs_one_and_waits_for_it(
    server: Server, projects: Projects
) -> None:
    assert "daily_sales" in hex_cli(server, "projects", "list")
    ran = hex_cli(
        server,
        "projects",
        "run",
        projects.quick,
        "--input-params",
        '{"region": "ANZ"}',
        "--wait",
        "--poll-interval",
        "1",
    )
    assert "Run started successfully" in ran
    assert "Run completed with status: COMPLETED" in ran
    runs = server.http.get(f"/api/v1/projects/{projects.quick}/runs", params={"limit": 1})
    (newest,) = runs.json()["runs"]
    assert "ANZ: 3 days" in printed(server, projects.quick, newest["runId"])
    status = hex_cli(server, "runs", "status", projects.quick, newest["runId"])
    assert "COMPLETED" in status


def test_the_cli_cancels_a_run(server: Server, projects: Projects) -> None:
    started = server.http.post(f"/api/v1/projects/{projects.slow}/runs", json={}).json()
    server.wait_for(projects.slow, started["runId"], {"RUNNING"})
    cancelled = hex_cli(server, "runs", "cancel", projects.slow, started["runId"], "--yes")
    assert "cancelled successfully" in cancelled
    assert server.wait_for(projects.slow, started["runId"], {"KILLED"})["status"] == "KILLED"


def test_the_sdk_makes_a_presigned_url_that_opens_the_app_run_with_its_inputs(
    server: Server, projects: Projects
) -> None:
    outcome = sdk(server, {"embed": projects.quick, "input_parameters": {"region": "EMEA"}})
    url = outcome["embedded"]["url"]
    assert path_of(url).startswith(f"/embed/{projects.quick}?token=")
    # Opened as an embedding site's visitor opens it: no token, no session.
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as anonymous:
        page = followed(anonymous, path_of(url), timeout=120)
        outputs = frame_of(anonymous, page)
    assert "EMEA: 3 days" in outputs
    assert "summary = f" not in outputs  # the app's outputs, not its code
