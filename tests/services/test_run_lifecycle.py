"""Every way a run ends leaves the same trace, and only services/run_lifecycle.py writes it.

- `test_every_way_a_run_ends_...` drives each code path that ends a run for real, on both
  databases: kernels on the local executor, the executor's claim, the API's cancel, the
  scheduler's overlap rule, the upkeep (allocation timeout, reaper), the start-up that ends
  orphans, and the shutdown that kills what still runs. (A Celery worker runs the same
  `ExecutionService.execute` as the local executor: tests/worker covers its transport.)
  Then every terminal run in the store must have exactly one terminal STATUS event, at the
  end of a legal path of STATUS events from PENDING, no lease and an end time.
- `test_only_the_run_lifecycle_module_writes_a_runs_status` reads the source tree, as the
  permission matrix reads the routes, and finds no other module that sets `runs.status`.
"""

from __future__ import annotations

import ast
import re
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.cast import AUTH, notebook, published_project, trigger, wait_for_status

from runyard.app import Runtime, create_app
from runyard.domain.run_status import RunStatus, RunTrigger, can_transition
from runyard.services import run_lifecycle as lifecycle
from runyard.services.execution import worker_prefix_of_this_host
from runyard.services.scheduling import SchedulingLimits, SchedulingService
from runyard.store import runs as run_store
from runyard.store.runs import RunRow

pytestmark = pytest.mark.kernel

SOURCE = Path(__file__).parents[2] / "src" / "runyard"
LIFECYCLE = "services/run_lifecycle.py"


@dataclass(frozen=True)
class Ending:
    """One way of ending a run: the status it must end in and a part of its error."""

    path: str
    status: RunStatus
    error_part: str | None = None


def test_every_way_a_run_ends_leaves_one_terminal_event_no_lease_and_an_end_time(
    runtime: Runtime,
) -> None:
    api = TestClient(create_app(runtime, background=False), headers=AUTH)
    quick = published_project(api, notebook("x = 1"))
    failing = published_project(api, notebook("raise ValueError('on purpose')"))
    sleeper = published_project(api, notebook("import time\ntime.sleep(600)"))
    sql = notebook("print('after')")
    sql["cells"].insert(0, _sql_cell("select 1", "no-such-connection"))
    unrunnable = published_project(api, sql)
    expected: dict[str, Ending] = {}

    # Before the start: a run left RUNNING by a process of this host that died.
    orphan = _claimed_run(runtime, quick, _dead_worker(), lease=timedelta(hours=1))
    expected[orphan] = Ending("orphan ended at start-up", RunStatus.ERRORED, "server stopped")
    runtime.start(scheduler=False)
    try:
        for project_id, ending in (
            (quick, Ending("a kernel completes it", RunStatus.COMPLETED)),
            (failing, Ending("a cell raises", RunStatus.ERRORED, "ValueError")),
            (unrunnable, Ending("its SQL connection is unknown", RunStatus.ERRORED, "SQL")),
        ):
            expected[trigger(api, project_id)["runId"]] = ending

        running = trigger(api, sleeper)["runId"]
        wait_for_status(api, sleeper, running, "RUNNING")
        assert api.delete(f"/api/v1/projects/{sleeper}/runs/{running}").status_code == 204
        expected[running] = Ending("cancelled while running", RunStatus.KILLED)

        # The executor's claim finds the run's version gone, or the run waited too long.
        vanished = _pending_run(runtime, quick, version=99)
        expected[vanished] = Ending("version gone at claim", RunStatus.ERRORED, "no longer")
        waited = runtime.settings.kernel_allocation_timeout_seconds + 5
        late = _pending_run(runtime, quick, age=timedelta(seconds=waited))
        expected[late] = Ending(
            "no kernel in time, seen at claim", RunStatus.UNABLE_TO_ALLOCATE_KERNEL
        )
        for run_id in (vanished, late):
            runtime.executor.submit(run_id)
        for run_id in expected:
            _wait_until_ended(runtime, run_id)

        # A schedule's next slot cancels its previous run, still PENDING; the API cancels
        # the new one. A scheduler of its own, which rings no executor.
        _overlap_cancels(api, runtime, quick, expected)

        # The upkeep: a run that waited too long, and one whose worker stopped renewing.
        unallocated = _pending_run(runtime, quick, age=timedelta(seconds=waited))
        expected[unallocated] = Ending(
            "no kernel in time, seen by the upkeep", RunStatus.UNABLE_TO_ALLOCATE_KERNEL
        )
        lost = _claimed_run(runtime, quick, "elsewhere:1:gone", lease=-timedelta(seconds=1))
        expected[lost] = Ending("its lease expired", RunStatus.ERRORED, "renewing its lease")
        report = runtime.services.runs.upkeep(datetime.now(UTC))
        assert (report.unallocated, report.reaped) == (1, 1)

        # The last: shutting down kills what still runs (no grace in tests).
        stopped = trigger(api, sleeper)["runId"]
        wait_for_status(api, sleeper, stopped, "RUNNING")
        expected[stopped] = Ending("killed at shutdown", RunStatus.ERRORED, "shut down")
    finally:
        runtime.stop()

    with runtime.db.read() as session:
        runs = list(session.scalars(select(RunRow)))
        events = {run.id: run_store.events_of(session, run.id) for run in runs}
    by_id = {run.id: run for run in runs}
    for run_id, ending in expected.items():
        run = by_id[run_id]
        assert run.status == ending.status.value, (ending.path, run.status, run.error)
        if ending.error_part is not None:
            assert ending.error_part in str(run.error), (ending.path, run.error)
    terminal = [run for run in runs if RunStatus(run.status).is_terminal]
    assert {run.id for run in terminal} >= set(expected)
    for run in terminal:
        path = expected[run.id].path if run.id in expected else run.id
        statuses = [RunStatus(e.value) for e in events[run.id] if e.type == "STATUS"]
        assert statuses[0] is RunStatus.PENDING, (path, statuses)
        assert all(can_transition(a, b) for a, b in pairwise(statuses)), (path, statuses)
        assert [s for s in statuses if s.is_terminal] == [RunStatus(run.status)], (path, statuses)
        assert run.lease_until is None, (path, run.lease_until)
        assert run.ended_at is not None, path


def _overlap_cancels(
    api: TestClient, runtime: Runtime, project_id: str, expected: dict[str, Ending]
) -> None:
    created = api.post(
        f"/api/v1/projects/{project_id}/schedules",
        json={
            "cadence": "HOURLY",
            "hourly": {"timezone": "UTC", "minute": 0},
            "overlap": "cancel_previous",
        },
    )
    assert created.status_code == 201, created.text
    scheduling = SchedulingService(
        runtime.db, lambda: datetime.now(UTC), SchedulingLimits(), ring=None, cancel=None
    )
    slot = (datetime.now(UTC) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    [previous] = scheduling.fire_due(slot + timedelta(seconds=1)).run_ids
    [following] = scheduling.fire_due(slot + timedelta(hours=1, seconds=1)).run_ids
    expected[previous] = Ending("cancelled by its schedule's next slot", RunStatus.KILLED)
    assert api.delete(f"/api/v1/projects/{project_id}/runs/{following}").status_code == 204
    expected[following] = Ending("cancelled while pending", RunStatus.KILLED, "Cancelled by")


def _sql_cell(query: str, connection: str) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "metadata": {"runyard": {"sql": {"connection": connection, "output": "df"}}},
        "source": query,
        "outputs": [],
        "execution_count": None,
    }


def _pending_run(
    runtime: Runtime, project_id: str, *, version: int = 1, age: timedelta = timedelta(0)
) -> str:
    """A PENDING run made as a trigger makes one, `age` old; no executor was asked yet."""
    run = lifecycle.new_run(
        project_id=project_id,
        project_version=version,
        trigger=RunTrigger.API,
        input_params={},
        options=lifecycle.RunOptions(update_published_results=False),
        timeout_seconds=60.0,
        now=datetime.now(UTC) - age,
        rung=False,
    )
    with runtime.db.write() as session:
        return lifecycle.create(session, run).id


def _claimed_run(runtime: Runtime, project_id: str, worker: str, *, lease: timedelta) -> str:
    """A run `worker` claimed, its lease running out `lease` from now."""
    run_id = _pending_run(runtime, project_id)
    now = datetime.now(UTC)
    with runtime.db.write() as session:
        assert lifecycle.claim(session, run_id, worker, now + lease, now)
    return run_id


def _dead_worker() -> str:
    """The worker id of a process of this host that has exited."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    return f"{worker_prefix_of_this_host()}{gone.pid}:deadbeef"


def _wait_until_ended(runtime: Runtime, run_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with runtime.db.read() as session:
            run = run_store.get_run(session, run_id)
            assert run is not None
            if RunStatus(run.status).is_terminal:
                return
        assert time.monotonic() < deadline, f"run {run_id} still {run.status}"
        time.sleep(0.05)


# -- who writes runs.status --------------------------------------------------------------


def test_only_the_run_lifecycle_module_writes_a_runs_status() -> None:
    """Places that could set a run's status, wherever they are in src/runyard:

    - a call of `transition` (store.runs' compare-and-set) or `insert_slot_runs`;
    - `RunRow(status=...)` or `dict(status=...)` (a new run's values), and
      `.values(status=...)` / `.values({"status": ...})`;
    - an assignment to some object's `.status` (an exception's own `self.status` aside), or
      `setattr(..., "status", ...)`;
    - raw SQL that sets `status` in `runs`;
    - the STATUS event's type, written anywhere else.
    """
    found: dict[str, set[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        module = path.relative_to(SOURCE).as_posix()
        for kind in _status_writes(ast.parse(path.read_text(), filename=module)):
            found.setdefault(kind, set()).add(module)

    assert found.pop("transition()") == {LIFECYCLE}
    assert found.pop("insert_slot_runs()") == {LIFECYCLE}
    assert found.pop("RunRow(status=)") == {LIFECYCLE}
    assert found.pop('"STATUS"') == {LIFECYCLE}
    # The compare-and-set itself, which only run_lifecycle calls (above).
    assert found.pop(".values(status=)") == {"store/runs.py"}
    assert found == {}


def _status_writes(tree: ast.AST) -> list[str]:
    kinds: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _called(node.func)
            keywords = {k.arg for k in node.keywords}
            if name in ("transition", "insert_slot_runs"):
                kinds.append(f"{name}()")
            if name in ("RunRow", "dict") and "status" in keywords:
                kinds.append("RunRow(status=)")
            if name == "values" and ("status" in keywords or _has_status_key(node.args)):
                kinds.append(".values(status=)")
            if name == "setattr" and _has_constant(node.args, "status"):
                kinds.append("setattr(status)")
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "status"
                and not (isinstance(target.value, ast.Name) and target.value.id == "self")
            ):
                kinds.append(".status =")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value == lifecycle.STATUS_EVENT:
                kinds.append('"STATUS"')
            if _SQL_SETS_STATUS.search(node.value):
                kinds.append("UPDATE runs SET status")
    return kinds


_SQL_SETS_STATUS = re.compile(r"update\s+runs\s+set\b[^;]*\bstatus\s*=", re.IGNORECASE)


def _called(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _has_status_key(args: list[ast.expr]) -> bool:
    return any(
        isinstance(arg, ast.Dict) and _has_constant([k for k in arg.keys if k], "status")
        for arg in args
    )


def _has_constant(nodes: list[ast.expr], value: str) -> bool:
    return any(isinstance(node, ast.Constant) and node.value == value for node in nodes)


def test_the_source_check_sees_a_status_written_by_hand() -> None:
    """The check above is not blind: each shape of a hand-written status change is seen."""
    written_by_hand = {
        "transition()": "store.transition(s, rid, RunStatus.KILLED)",
        "RunRow(status=)": "RunRow(id=rid, status='PENDING')",
        ".values(status=)": "update(RunRow).values({'status': 'ERRORED'})",
        ".status =": "run.status = RunStatus.ERRORED.value",
        "setattr(status)": "setattr(run, 'status', 'KILLED')",
        '"STATUS"': "store.add_event(s, rid, 'STATUS', 'KILLED', now)",
        "UPDATE runs SET status": "s.execute(text(\"UPDATE runs SET status = 'X'\"))",
    }
    for kind, source in written_by_hand.items():
        assert kind in _status_writes(ast.parse(source)), kind
    assert _status_writes(ast.parse("self.status = status")) == []
