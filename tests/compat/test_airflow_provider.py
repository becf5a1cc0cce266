"""airflow-provider-hex 0.1.9 on Airflow 2.10: its HexRunProjectOperator, in a DAG run by
`dag.test()`, against a real Runyard. The provider calls Hex's singular run paths
(`/api/v1/project/{id}/run…`), with the connection's host as the base URL."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.compat.clients import Driven, Projects, drive, in_client_env, printed
from tests.servers import TOKEN, Server

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

CLIENT = "airflow-provider-hex"


@pytest.fixture(scope="module")
def airflow_env(server: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An Airflow home with a migrated metadata database, and the Hex connection a
    deployment would define (`hex_default`, host = Runyard's URL, password = the token)."""
    env = {
        "AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow")),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_HEX_DEFAULT": json.dumps(
            {"conn_type": "hex", "host": f"http://127.0.0.1:{server.port}", "password": TOKEN}
        ),
    }
    migrated = in_client_env(CLIENT, "airflow", "db", "migrate", env=env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    return env


def run_dag(env: dict[str, str], **operator_arguments: Any) -> Driven:
    return drive(CLIENT, "airflow_dag.py", json.dumps(operator_arguments), env=env)


def test_a_dag_runs_the_project_with_its_inputs_and_the_task_returns_the_final_status(
    server: Server, projects: Projects, airflow_env: dict[str, str]
) -> None:
    driven = run_dag(
        airflow_env,
        project_id=projects.quick,
        input_parameters={"region": "EU", "days": 5},
        wait_seconds=1,
    )
    assert driven.outcome["dag_state"] == "success", driven.output[-3000:]
    assert driven.outcome["task_state"] == "success"
    returned = driven.outcome["returned"]
    assert returned["status"] == "COMPLETED"
    assert returned["projectId"] == projects.quick
    assert returned["inputParams"] == {"region": "EU", "days": 5}
    assert isinstance(returned["elapsedTime"], int)
    assert "EU: 5 days" in printed(server, projects.quick, returned["runId"])


def test_a_project_that_errors_fails_the_task_naming_the_status(
    projects: Projects, airflow_env: dict[str, str]
) -> None:
    driven = run_dag(airflow_env, project_id=projects.failing, wait_seconds=1)
    assert driven.outcome["task_state"] == "failed"
    assert driven.outcome["dag_state"] == "failed"
    assert "Project Run failed with status ERRORED" in driven.output


def test_the_operator_kills_a_run_that_outlasts_its_timeout(
    server: Server, projects: Projects, airflow_env: dict[str, str]
) -> None:
    driven = run_dag(
        airflow_env, project_id=projects.slow, wait_seconds=1, timeout=2, kill_on_timeout=True
    )
    assert driven.outcome["task_state"] == "failed"
    found = re.search(r"with run: ([0-9a-f-]{36})' timed out", driven.output)
    assert found, driven.output[-3000:]
    # The provider's DELETE on the singular path is what ends the run.
    assert server.wait_for(projects.slow, found.group(1), {"KILLED"})["status"] == "KILLED"


def test_an_asynchronous_operator_returns_the_new_run_and_the_run_goes_on(
    server: Server, projects: Projects, airflow_env: dict[str, str]
) -> None:
    driven = run_dag(airflow_env, project_id=projects.quick, synchronous=False)
    assert driven.outcome["task_state"] == "success", driven.output[-3000:]
    started = driven.outcome["returned"]
    assert set(started) >= {"projectId", "runId", "runUrl", "runStatusUrl", "traceId"}
    assert isinstance(started["projectVersion"], int)
    ended = server.wait_for(projects.quick, started["runId"], {"COMPLETED", "ERRORED"})
    assert ended["status"] == "COMPLETED"
    assert "EMEA: 3 days" in printed(server, projects.quick, started["runId"])
