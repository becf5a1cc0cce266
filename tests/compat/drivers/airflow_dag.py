"""Runs one Airflow DAG of airflow-provider-hex's HexRunProjectOperator with `dag.test()`.

Run by tests/compat in the provider's own virtualenv (.compat/airflow-provider-hex), never
imported by the suite. The Hex connection comes from AIRFLOW_CONN_HEX_DEFAULT, as a
deployment would set it. argv[1] is the operator's arguments as JSON; the last line printed
is JSON: the DAG run's state, the task's state and what the task returned (its XCom).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from airflow import DAG
from airflow_provider_hex.operators.hex import HexRunProjectOperator

operator_arguments = json.loads(sys.argv[1])

with DAG("runyard_compat", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC)) as dag:
    HexRunProjectOperator(task_id="run_project", **operator_arguments)

dag_run = dag.test()
(task,) = dag_run.get_task_instances()
print(
    json.dumps(
        {
            "dag_state": str(dag_run.state),
            "task_state": str(task.state),
            "returned": task.xcom_pull(task_ids="run_project"),
        }
    )
)
