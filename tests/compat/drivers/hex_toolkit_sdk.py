"""Drives Runyard with hex-toolkit's `HexClient`, whose pydantic models parse every answer.

Run by tests/compat in hex-toolkit's own virtualenv (.compat/hex-toolkit), never imported by
the suite. The server comes from HEX_API_BASE_URL (Runyard's URL + "/api", as for Hex) and
HEX_API_KEY. argv[1] is JSON naming what to do:

- `{"projects": {...list arguments...}}`: every page of `projects.list`;
- `{"project": PROJECT_ID}`: `projects.get` with sharing;
- `{"run": PROJECT_ID, "input_params": {...}}`: `projects.run`, then `runs.get_status`
  until the run ends (every `poll_interval` seconds, default 0.3, for at most `timeout`,
  default 120), then `runs.list` of that project's COMPLETED runs two at a time;
- `{"cancel": PROJECT_ID}`: `projects.run`, `runs.cancel`, then `runs.get_status` until
  the run ends;
- `{"embed": PROJECT_ID, "input_parameters": {...}}`: `embedding.create_presigned_url`
  with those inputs, a minute's expiry and display options.

The last line printed is JSON: the parsed models, dumped.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from hex_toolkit import HexClient
from hex_toolkit.models.runs import RunStatus

client = HexClient()
ENDED = {RunStatus.COMPLETED, RunStatus.ERRORED, RunStatus.KILLED}


def dumped(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True)


def until_ended(
    project_id: str, run_id: str, poll_interval: float = 0.3, timeout: float = 120
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        status = client.runs.get_status(project_id, run_id)
        if status.status in ENDED or time.monotonic() > deadline:
            return status
        time.sleep(poll_interval)


def every_project(arguments: dict[str, Any]) -> dict[str, Any]:
    pages = [client.projects.list(**arguments)]
    while pages[-1].pagination.after:
        pages.append(client.projects.list(**arguments, after=pages[-1].pagination.after))
    return {"pages": [dumped(page) for page in pages]}


def run(
    project_id: str, input_params: dict[str, Any], poll_interval: float, timeout: float
) -> dict[str, Any]:
    started = client.projects.run(project_id, input_params=input_params)
    ended = until_ended(project_id, str(started.run_id), poll_interval, timeout)
    listed = client.runs.list(project_id, limit=2, status_filter=RunStatus.COMPLETED)
    return {"started": dumped(started), "ended": dumped(ended), "listed": dumped(listed)}


def cancel(project_id: str) -> dict[str, Any]:
    started = client.projects.run(project_id)
    answer = client.runs.cancel(project_id, started.run_id)
    return {"answer": answer, "ended": dumped(until_ended(project_id, str(started.run_id)))}


request = json.loads(sys.argv[1])
if "projects" in request:
    outcome = every_project(request["projects"])
elif "project" in request:
    outcome = {"project": dumped(client.projects.get(request["project"], include_sharing=True))}
elif "run" in request:
    outcome = run(
        request["run"],
        request.get("input_params") or {},
        request.get("poll_interval", 0.3),
        request.get("timeout", 120),
    )
elif "embed" in request:
    outcome = {
        "embedded": dumped(
            client.embedding.create_presigned_url(
                request["embed"],
                input_parameters=request.get("input_parameters"),
                expires_in=60_000,
                display_options={"noEmbedFooter": True},
            )
        )
    }
else:
    outcome = cancel(request["cancel"])
print(json.dumps(outcome))
