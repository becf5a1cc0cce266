"""dagster-hex 0.1.10 on Dagster 1.x: its `hex_project_op` in a job, `build_hex_asset`
materialized, and `HexResource.cancel_run`, against a real Runyard. The integration calls
Hex's singular run paths and `GET /api/v1/projects/{id}`, with `base_url` = Runyard's URL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.compat.clients import Driven, Projects, drive, printed
from tests.servers import TOKEN, Server

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

CLIENT = "dagster-hex"


def dagster(server: Server, request: dict[str, Any]) -> Driven:
    env = {"HEX_API_KEY": TOKEN, "HEX_BASE_URL": f"http://127.0.0.1:{server.port}"}
    return drive(CLIENT, "dagster_hex_job.py", json.dumps(request), env=env)


def test_the_op_runs_the_project_and_records_a_materialization_of_its_run(
    server: Server, projects: Projects
) -> None:
    config = {"project_id": projects.quick, "inputs": {"region": "EU"}, "poll_interval": 0.5}
    outcome = dagster(server, {"op": config}).outcome
    assert outcome["success"], outcome
    assert outcome["status"]["status"] == "COMPLETED"
    assert outcome["asset_key"] == ["hex", projects.quick]
    run_id = outcome["run"]["runId"]
    # Dagster's int metadata takes the run's elapsedTime only because it is an integer.
    assert outcome["metadata"]["elapsed_time"].startswith("IntMetadataValue(value=")
    assert run_id in outcome["metadata"]["run_url"]
    assert "EU: 3 days" in printed(server, projects.quick, run_id)


def test_a_project_that_errors_fails_the_op_naming_the_status(
    server: Server, projects: Projects
) -> None:
    outcome = dagster(
        server, {"op": {"project_id": projects.failing, "poll_interval": 0.5}}
    ).outcome
    assert not outcome["success"]
    assert "Project Run failed with status ERRORED" in outcome["error"]


def test_an_asset_built_from_the_project_reads_its_details_and_materializes_a_run(
    server: Server, projects: Projects
) -> None:
    outcome = dagster(server, {"asset": projects.quick}).outcome
    assert outcome["success"], outcome
    # build_hex_asset names the asset from the title and reads the project's details
    # (creator email, timestamps, categories) into the asset's definition metadata.
    assert ["hex", "daily_sales", projects.quick] in outcome["asset_keys"]
    metadata = outcome["definition_metadata"]
    assert "admin@runyard.local" in metadata["creator"]
    assert set(metadata) >= {"title", "description", "last_edited_at", "categories"}
    assert "APAC: 3 days" in printed(server, projects.quick, outcome["run_id"])


def test_cancel_kills_the_run_and_the_resent_delete_ends_in_a_422(
    server: Server, projects: Projects
) -> None:
    started = server.http.post(f"/api/v1/project/{projects.slow}/run", json={}).json()
    server.wait_for(projects.slow, started["runId"], {"RUNNING"})
    outcome = dagster(server, {"cancel": [projects.slow, started["runId"]]}).outcome
    # dagster-hex sends the DELETE again after a 204 without JSON, and stops only at an
    # error: the repeat must be a 422 (the run is already KILLED), or it would loop for ever.
    assert "Received 422 status from Hex" in outcome["raised"]
    assert "KILLED" in outcome["raised"]
    assert server.wait_for(projects.slow, started["runId"], {"KILLED"})["status"] == "KILLED"


def test_a_poll_timeout_kills_the_run_and_fails_the_op(server: Server, projects: Projects) -> None:
    config = {"project_id": projects.slow, "poll_interval": 0.5, "poll_timeout": 2.0}
    outcome = dagster(server, {"op": config}).outcome
    assert not outcome["success"]
    runs = server.http.get(f"/api/v1/projects/{projects.slow}/runs", params={"limit": 1}).json()
    (newest,) = runs["runs"]
    assert server.wait_for(projects.slow, newest["runId"], {"KILLED"})["status"] == "KILLED"
