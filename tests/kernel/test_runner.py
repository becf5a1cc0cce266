from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runyard.kernel.artifacts import render_pages
from runyard.kernel.runner import (
    KernelControl,
    KernelJob,
    KernelResult,
    RunOutcome,
    kernel_environment,
    run_notebook,
)

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.timeout(60),
    pytest.mark.skipif(not Path("/proc/self").exists(), reason="process checks read /proc"),
]

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z ")


def outputs_text(result: KernelResult, index: int) -> str:
    """All stream text of cell `index` of the executed notebook."""
    cell = result.executed_notebook["cells"][index]
    return "".join(o["text"] for o in cell.get("outputs", []) if o["output_type"] == "stream")


def logged_at(result: KernelResult, needle: str) -> float:
    """The time (POSIX seconds) of the first log line containing `needle`."""
    line = next(line for line in result.log.splitlines() if needle in line)
    stamp = datetime.strptime(line.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S.%fZ")
    return stamp.replace(tzinfo=UTC).timestamp()


def run_in_thread(job: KernelJob, control: KernelControl, **hooks: Any) -> Future[KernelResult]:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(run_notebook, job, control, **hooks)
    pool.shutdown(wait=False)
    return future


def logged_when(needle: str) -> tuple[threading.Event, Callable[[str], None]]:
    """An Event set once a log line containing `needle` is written, and the on_log for it."""
    seen = threading.Event()

    def on_log(line: str) -> None:
        if needle in line:
            seen.set()

    return seen, on_log


@dataclass
class GreetingRun:
    result: KernelResult
    live_lines: list[str]
    kernel_pid: int


@pytest.fixture(scope="module")
def greeting_run(make_notebook: Callable[..., dict[str, Any]], cell: Any) -> GreetingRun:
    """A notebook that completes, with parameters, markdown, stdout, stderr, a result, and a
    subprocess it leaves running."""
    notebook = make_notebook(
        cell("name = 'nobody'\nrepeat = 1", "parameters"),
        cell("# Greetings", cell_type="markdown"),
        "import os, subprocess, sys\n"
        "leftover = subprocess.Popen(['sleep', '600'])\n"
        "print('leftover', leftover.pid)",
        "print('cwd', os.getcwd())\nprint('env', os.environ['RUNYARD_TEST_VAR'])",
        "for _ in range(repeat):\n    print(f'hello {name}')",
        "print('to stderr', file=sys.stderr)",
        "{'answer': 6 * 7}",
    )
    job = KernelJob(
        notebook, {"name": "wörld", "repeat": 2}, extra_env={"RUNYARD_TEST_VAR": "from-env"}
    )
    lines: list[str] = []
    pids: list[int] = []
    result = run_notebook(job, on_kernel_started=pids.append, on_log=lines.append)
    return GreetingRun(result, lines, pids[0])


def test_a_notebook_without_errors_completes(greeting_run: GreetingRun) -> None:
    result = greeting_run.result

    assert (result.outcome, result.reason, result.error) == (RunOutcome.COMPLETED, None, None)
    assert result.started_at.tzinfo is UTC
    assert result.started_at <= result.ended_at


def test_injected_parameters_override_the_defaults(greeting_run: GreetingRun) -> None:
    cells = greeting_run.result.executed_notebook["cells"]

    assert cells[1]["metadata"]["tags"] == ["injected-parameters"]
    assert cells[1]["source"] == "# Parameters\nname = 'wörld'\nrepeat = 2\n"
    assert outputs_text(greeting_run.result, 5) == "hello wörld\nhello wörld\n"


def test_the_executed_notebook_is_plain_json_with_outputs(greeting_run: GreetingRun) -> None:
    notebook = greeting_run.result.executed_notebook
    result_cell = notebook["cells"][-1]

    assert type(notebook) is dict
    assert json.loads(json.dumps(notebook)) == notebook
    assert notebook["metadata"]["language_info"]["name"] == "python"
    assert result_cell["outputs"][0]["data"]["text/plain"] == "{'answer': 42}"
    assert result_cell["execution_count"] is not None


def test_the_html_shows_the_outputs(greeting_run: GreetingRun) -> None:
    html = render_pages(greeting_run.result.executed_notebook).notebook

    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "hello wörld" in html
    assert "{&#39;answer&#39;: 42}" in html or "{'answer': 42}" in html


def test_the_log_has_timestamped_events_and_the_printed_text(greeting_run: GreetingRun) -> None:
    lines = greeting_run.result.log.splitlines()

    assert all(TIMESTAMP.match(line) for line in lines), lines
    text = "\n".join(line.split(" ", 1)[1] for line in lines)
    assert f"kernel started pid={greeting_run.kernel_pid}" in text
    assert "cell 5 started" in text
    assert "[cell 5 stdout] hello wörld\n[cell 5 stdout] hello wörld" in text
    assert "[cell 6 stderr] to stderr" in text
    assert "cell 2 started" not in text  # markdown is not executed


def test_log_lines_reach_on_log_as_they_are_written(greeting_run: GreetingRun) -> None:
    assert greeting_run.live_lines == greeting_run.result.log.splitlines()


def test_the_kernel_is_reaped_after_a_completed_run(
    greeting_run: GreetingRun, reaped: Callable[[int], bool]
) -> None:
    assert reaped(greeting_run.kernel_pid)


def test_subprocesses_a_notebook_left_running_die_with_the_run(
    greeting_run: GreetingRun, dead: Callable[[int], bool]
) -> None:
    leftover = int(outputs_text(greeting_run.result, 3).split()[1])

    assert dead(leftover)


def test_the_kernel_runs_in_a_scratch_directory_removed_afterwards(
    greeting_run: GreetingRun,
) -> None:
    cwd = outputs_text(greeting_run.result, 4).splitlines()[0].removeprefix("cwd ")

    assert "runyard-kernel-" in cwd  # unsandboxed: a folder in the kernel's private one
    assert not Path(cwd).exists()


def test_extra_env_reaches_the_kernel(greeting_run: GreetingRun) -> None:
    assert outputs_text(greeting_run.result, 4).splitlines()[1] == "env from-env"


def test_a_given_cwd_is_kept_and_files_are_flushed_on_shutdown(
    make_notebook: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    # Never closed: only a polite shutdown (the interpreter exiting) flushes it.
    notebook = make_notebook("f = open('unflushed.txt', 'w')\nf.write('kept')")

    result = run_notebook(KernelJob(notebook, {}, cwd=str(tmp_path)))

    assert result.outcome is RunOutcome.COMPLETED
    assert (tmp_path / "unflushed.txt").read_text() == "kept"


def test_a_cell_error_stops_the_run(
    make_notebook: Callable[..., dict[str, Any]], cell: Any
) -> None:
    failing = cell("raise ValueError('boom')")
    notebook = make_notebook(
        cell("{}['missing']", "raises-exception"),  # allowed to fail: the run goes on
        "print('before')",
        failing,
        "print('after')",
    )

    result = run_notebook(KernelJob(notebook, {"x": 1}))

    assert result.outcome is RunOutcome.ERRORED
    assert result.reason == "Cell 3 raised ValueError: boom"
    error = result.error
    assert error is not None
    assert (error.cell_index, error.cell_id) == (3, failing["id"])
    assert (error.ename, error.evalue) == ("ValueError", "boom")
    assert "ValueError" in "".join(error.traceback)
    assert "\x1b" not in "".join(error.traceback)
    cells = result.executed_notebook["cells"]
    assert cells[1]["outputs"][0]["ename"] == "KeyError"
    assert outputs_text(result, 2) == "before\n"
    assert cells[3]["outputs"][-1]["output_type"] == "error"
    assert (cells[4]["outputs"], cells[4]["execution_count"]) == ([], None)
    assert "cell 4 started" not in result.log
    assert "cell 3 raised ValueError: boom" in result.log


def test_an_endless_loop_is_cut_at_the_deadline(
    make_notebook: Callable[..., dict[str, Any]], reaped: Callable[[int], bool]
) -> None:
    notebook = make_notebook("print('looping')", "while True:\n    pass", "print('never')")
    pids: list[int] = []
    began = time.monotonic()

    result = run_notebook(KernelJob(notebook, {}, timeout_seconds=4), on_kernel_started=pids.append)

    elapsed = time.monotonic() - began
    assert result.outcome is RunOutcome.TIMED_OUT
    assert result.reason == "Run exceeded its timeout of 4s"
    assert "cell 1 started" in result.log  # the loop did run
    assert 4 <= logged_at(result, "stopping: ") - logged_at(result, "run started") < 5
    assert elapsed < 14  # reaping and rendering (importing nbconvert) on a busy machine
    assert outputs_text(result, 0) == "looping\n"
    assert reaped(pids[0])


def test_cancel_kills_the_kernel_and_its_subprocesses_at_once(
    make_notebook: Callable[..., dict[str, Any]],
    reaped: Callable[[int], bool],
    dead: Callable[[int], bool],
) -> None:
    notebook = make_notebook(
        "import subprocess\nprint(subprocess.Popen(['sleep', '600']).pid)",
        "import time\ntime.sleep(60)",
        "print('never')",
    )
    control = KernelControl()
    sleeping, on_log = logged_when("cell 1 started")
    future = run_in_thread(KernelJob(notebook, {}), control, on_log=on_log)
    assert sleeping.wait(30)
    cancelled_at = time.time()

    control.cancel()
    result = future.result(timeout=30)

    assert logged_at(result, "stopping: Cancelled") - cancelled_at < 1
    assert time.time() - cancelled_at < 10  # reaping and rendering (importing nbconvert)
    assert (result.outcome, result.reason, result.error) == (RunOutcome.KILLED, "Cancelled", None)
    assert control.kernel_pid is not None
    assert reaped(control.kernel_pid)
    assert dead(int(outputs_text(result, 0)))


def test_cancel_before_the_run_starts_no_kernel(
    make_notebook: Callable[..., dict[str, Any]],
) -> None:
    control = KernelControl()
    control.cancel()
    pids: list[int] = []

    result = run_notebook(KernelJob(make_notebook("1"), {}), control, pids.append)

    assert (result.outcome, result.reason) == (RunOutcome.KILLED, "Cancelled")
    assert pids == []
    assert control.kernel_pid is None


def test_cancel_while_the_kernel_starts_kills_it_right_away(
    make_notebook: Callable[..., dict[str, Any]], reaped: Callable[[int], bool]
) -> None:
    control = KernelControl()
    pids: list[int] = []

    def started(pid: int) -> None:
        pids.append(pid)
        control.cancel()

    result = run_notebook(KernelJob(make_notebook("1"), {}), control, started)

    assert result.outcome is RunOutcome.KILLED
    assert "cell 0 started" not in result.log
    assert reaped(pids[0])


def test_a_deadline_that_passes_while_the_kernel_starts_leaves_no_process(
    make_notebook: Callable[..., dict[str, Any]], our_children: Callable[[], list[int]]
) -> None:
    result = run_notebook(KernelJob(make_notebook("1"), {}, timeout_seconds=0.3))

    assert logged_at(result, "stopping: ") - logged_at(result, "run started") < 1.3
    assert (result.outcome, result.reason) == (
        RunOutcome.TIMED_OUT,
        "Run exceeded its timeout of 0.3s",
    )
    assert "cell 0 started" not in result.log
    assert our_children() == []


def test_an_unknown_kernel_errors_without_raising(
    make_notebook: Callable[..., dict[str, Any]],
) -> None:
    job = KernelJob(make_notebook("1"), {}, kernel_name="no-such-kernel")

    result = run_notebook(job)

    assert result.outcome is RunOutcome.ERRORED
    assert result.reason is not None
    assert result.reason.startswith("Could not start kernel: ")
    assert "no-such-kernel" in result.reason
    assert result.error is None


def test_a_kernel_that_exits_by_itself_errors(
    make_notebook: Callable[..., dict[str, Any]], reaped: Callable[[int], bool]
) -> None:
    notebook = make_notebook("print('bye')", "import os\nos._exit(3)", "print('never')")
    pids: list[int] = []

    result = run_notebook(KernelJob(notebook, {}), on_kernel_started=pids.append)

    assert result.outcome is RunOutcome.ERRORED
    assert result.reason == "Kernel died while running cell 1 (exit code 3)"
    assert result.error is None
    assert outputs_text(result, 0) == "bye\n"
    assert reaped(pids[0])


def test_concurrent_runs_keep_their_own_parameters(
    make_notebook: Callable[..., dict[str, Any]], cell: Any
) -> None:
    notebook = make_notebook(
        cell("who = None", "parameters"), "import time\ntime.sleep(0.5)\nprint(who)"
    )

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(run_notebook, KernelJob(notebook, {"who": who})) for who in ("ann", "bob")
        ]
        results = [future.result(timeout=60) for future in futures]

    assert [r.outcome for r in results] == [RunOutcome.COMPLETED] * 2
    assert [outputs_text(r, 2) for r in results] == ["ann\n", "bob\n"]


def test_a_sql_cell_whose_connection_was_not_resolved_errors(
    make_notebook: Callable[..., dict[str, Any]], cell: Any
) -> None:
    sql = cell("select 1", runyard={"sql": {"connection": "db", "output": "df"}})

    result = run_notebook(KernelJob(make_notebook("print('first')", sql), {}))

    assert result.outcome is RunOutcome.ERRORED
    assert result.reason == (
        "Cell 1 raised ConnectionNotResolved: data connection 'db' was not resolved for this run"
    )
    assert outputs_text(result, 0) == "first\n"


def test_parameters_that_cannot_be_rendered_error_without_a_kernel(
    make_notebook: Callable[..., dict[str, Any]],
) -> None:
    pids: list[int] = []

    result = run_notebook(KernelJob(make_notebook("1"), {"not valid": 1}), None, pids.append)

    assert result.outcome is RunOutcome.ERRORED
    assert result.reason == (
        "Could not inject parameters: Parameter name 'not valid' is not a valid Python identifier"
    )
    assert pids == []


def test_a_control_serves_one_run_only(make_notebook: Callable[..., dict[str, Any]]) -> None:
    control = KernelControl()
    control.cancel()
    run_notebook(KernelJob(make_notebook("1"), {}), control)

    with pytest.raises(RuntimeError, match="one run only"):
        run_notebook(KernelJob(make_notebook("1"), {}), control)


def test_a_timeout_must_be_positive(make_notebook: Callable[..., dict[str, Any]]) -> None:
    with pytest.raises(ValueError, match="positive"):
        KernelJob(make_notebook("1"), {}, timeout_seconds=0)


def test_a_failing_callback_errors_the_run_and_still_kills_the_kernel(
    make_notebook: Callable[..., dict[str, Any]], reaped: Callable[[int], bool]
) -> None:
    pids: list[int] = []

    def started(pid: int) -> None:
        pids.append(pid)
        raise RuntimeError("cannot record the pid")

    result = run_notebook(KernelJob(make_notebook("1"), {}), on_kernel_started=started)

    assert result.outcome is RunOutcome.ERRORED
    assert result.reason == "Internal error: RuntimeError: cannot record the pid"
    assert reaped(pids[0])


def test_calling_from_a_running_event_loop_is_refused(
    make_notebook: Callable[..., dict[str, Any]],
) -> None:
    async def call() -> None:
        run_notebook(KernelJob(make_notebook("1"), {}))

    with pytest.raises(RuntimeError, match=r"asyncio\.to_thread"):
        asyncio.run(call())


def test_the_servers_own_settings_are_not_in_the_kernels_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUNYARD_SECRET_KEY", "server-secret")
    monkeypatch.setenv("RUNYARD_DATABASE_URL", "postgresql://runyard:pw@db/runyard")
    monkeypatch.setenv("LANG", "C.UTF-8")

    environment = kernel_environment({"RUNYARD_RUN_ID": "r1"})

    assert "RUNYARD_SECRET_KEY" not in environment
    assert "RUNYARD_DATABASE_URL" not in environment
    assert environment["RUNYARD_RUN_ID"] == "r1"
    assert environment["LANG"] == "C.UTF-8"
