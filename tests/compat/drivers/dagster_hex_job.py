"""Drives Runyard with dagster-hex as a Dagster deployment does.

Run by tests/compat in dagster-hex's own virtualenv (.compat/dagster-hex), never imported by
the suite. The server comes from HEX_BASE_URL and HEX_API_KEY. argv[1] is JSON naming what
to do:

- `{"op": {...op config...}}`: a job of `hex_project_op`, run in process;
- `{"asset": PROJECT_ID}`: `build_hex_asset` for the project, materialized;
- `{"cancel": [PROJECT_ID, RUN_ID]}`: `HexResource.cancel_run`.

The last line printed is JSON describing the outcome.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from dagster import Failure, job, materialize
from dagster_hex.assets import build_hex_asset
from dagster_hex.ops import hex_project_op
from dagster_hex.resources import HexResource, hex_resource

SERVER = {"api_key": os.environ["HEX_API_KEY"], "base_url": os.environ["HEX_BASE_URL"]}


def run_op(config: dict[str, Any]) -> dict[str, Any]:
    @job(resource_defs={"hex": hex_resource.configured(SERVER)})
    def run_hex_project() -> None:
        hex_project_op()

    result = run_hex_project.execute_in_process(
        run_config={"ops": {"hex_project_op": {"config": config}}}, raise_on_error=False
    )
    outcome: dict[str, Any] = {"success": result.success}
    if result.success:
        output = result.output_for_node("hex_project_op")
        outcome["status"] = output.status_response
        outcome["run"] = output.run_response
        (event,) = result.get_asset_materialization_events()
        metadata = event.materialization.metadata
        outcome["metadata"] = {key: repr(value) for key, value in metadata.items()}
        outcome["asset_key"] = event.materialization.asset_key.path
    else:
        (failure,) = [e for e in result.all_events if e.is_step_failure]
        outcome["error"] = failure.step_failure_data.error.message
    return outcome


def run_asset(project_id: str) -> dict[str, Any]:
    resource = HexResource(**SERVER)
    asset = build_hex_asset(project_id, resource, inputs={"region": "APAC"})
    spec = next(iter(asset.specs))
    result = materialize([asset], resources={"hex": resource})
    # The asset's own materialization, and the one it logs for the Hex run.
    events = [e.materialization for e in result.get_asset_materialization_events()]
    (logged,) = [m for m in events if "run_id" in m.metadata]
    return {
        "success": result.success,
        "definition_metadata": {key: repr(value) for key, value in spec.metadata.items()},
        "asset_keys": [m.asset_key.path for m in events],
        "run_id": logged.metadata["run_id"].value,
    }


def cancel(project_id: str, run_id: str) -> dict[str, Any]:
    try:
        HexResource(**SERVER).cancel_run(project_id, run_id)
    except Failure as failure:
        return {"raised": str(failure)}
    return {"raised": None}


request = json.loads(sys.argv[1])
if "op" in request:
    print(json.dumps(run_op(request["op"]), default=str))
elif "asset" in request:
    print(json.dumps(run_asset(request["asset"]), default=str))
else:
    print(json.dumps(cancel(*request["cancel"])))
