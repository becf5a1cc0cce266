"""RUNYARD_LOG_FORMAT=json: a real `runyard serve` writes its log lines as one JSON object a
line, those about a run with its run id, project id and trace id."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from runyard.log_format import JsonFormatter, run_context
from runyard.tracing import reset_trace_id, set_trace_id
from tests.servers import import_example, serving


def test_a_line_carries_the_run_or_the_request_it_was_logged_in() -> None:
    def line(**extra: Any) -> dict[str, Any]:
        record = logging.LogRecord("runyard.x", logging.INFO, __file__, 1, "hi %s", ("a",), None)
        record.__dict__.update(extra)
        parsed: dict[str, Any] = json.loads(JsonFormatter().format(record))
        return parsed

    assert line().keys() == {"time", "level", "logger", "message"}
    assert line()["message"] == "hi a" and line()["level"] == "INFO"
    token = set_trace_id("req-trace")
    try:
        assert line()["trace_id"] == "req-trace"
        with run_context("run-1", "project-1", "run-trace"):
            assert line() | {"time": None} == {
                "time": None,
                "level": "INFO",
                "logger": "runyard.x",
                "message": "hi a",
                "run_id": "run-1",
                "project_id": "project-1",
                "trace_id": "run-trace",
            }
    finally:
        reset_trace_id(token)
    assert line(run_id="r", project_id="p")["run_id"] == "r"


@pytest.mark.slow
@pytest.mark.kernel
def test_a_server_logs_json_lines_with_the_runs_ids(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with serving(home, RUNYARD_LOG_FORMAT="json", RUNYARD_LOG_LEVEL="info") as server:
        project_id = import_example(server)
        triggered = server.http.post(f"/api/v1/projects/{project_id}/runs", json={}).json()
        run_id = triggered["runId"]
        server.wait_for(project_id, run_id, {"COMPLETED"})
        log_path = home.parent / f"serve-{server.port}.log"
        deadline = time.monotonic() + 10
        while f'"run_id": "{run_id}"' not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()[-2000:]
            time.sleep(0.1)
    lines = [line for line in log_path.read_text().splitlines() if line.startswith("{")]
    objects = [json.loads(line) for line in lines]  # every such line is one whole object
    [ended] = [o for o in objects if o.get("run_id") == run_id and "ended" in o["message"]]
    assert ended["project_id"] == project_id
    assert ended["trace_id"] == triggered["traceId"]
    assert ended["level"] == "INFO" and ended["logger"] == "runyard.services.execution"
    # uvicorn's access lines are JSON too, each with its request's trace id.
    access = [o for o in objects if o["logger"] == "uvicorn.access"]
    assert access and all(len(o["trace_id"]) == 32 for o in access)
