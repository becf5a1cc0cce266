"""Notebooks cannot reach the server: a real `runyard serve`, default settings (bubblewrap
sandbox, kernel pool), an EDITOR's notebooks trying what a hostile author would.

bubblewrap must work here (Debian's `bubblewrap`, installed by `make install` as root);
without it these tests skip with a message, and fail under CI=true.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runyard.kernel.sandbox import sandbox_for
from tests.cast import bearer, new_user, notebook, personal_token, published_project
from tests.conftest import service_missing
from tests.sandbox_cast import (
    attempt_results,
    attempts_notebook,
    process_alive,
    processes_with,
    run_folders,
)
from tests.servers import RUNYARD, Server, free_port, serving

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

MEMORY_LIMIT_MB = 300
FILES_LIMIT_MB = 64


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _, warning = sandbox_for("auto")
    if warning is not None:
        service_missing(f"bubblewrap cannot sandbox kernels on this machine: {warning}")
    home = tmp_path_factory.mktemp("sandbox") / "home"
    with serving(
        home,
        RUNYARD_KERNEL_MEMORY_LIMIT_MB=str(MEMORY_LIMIT_MB),
        RUNYARD_KERNEL_MAX_FILES_MB=str(FILES_LIMIT_MB),
    ) as running:
        yield running


class Editor:
    """An EDITOR user of `server` with a personal token, and a client that uses it."""

    def __init__(self, server: Server) -> None:
        user = new_user(server.http, f"editor-{uuid.uuid4().hex[:8]}@example.com")
        self.id = user["id"]
        self.token = personal_token(server.http, user["id"])
        self.http = httpx.Client(
            base_url=str(server.http.base_url), headers=bearer(self.token), timeout=10
        )

    def run(self, nb: dict[str, object], timeout: float = 120) -> tuple[str, dict[str, object]]:
        """Publish `nb` as a project of the editor's, run it, and wait for the end."""
        project_id = published_project(self.http, nb)
        run_id = self.trigger(project_id)
        return project_id, self.wait(project_id, run_id, timeout)

    def trigger(self, project_id: str) -> str:
        response = self.http.post(f"/api/v1/projects/{project_id}/runs", json={})
        assert response.status_code == 201, response.text
        run_id: str = response.json()["runId"]
        return run_id

    def wait(self, project_id: str, run_id: str, timeout: float = 120) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while True:
            run: dict[str, object] = self.http.get(
                f"/api/v1/projects/{project_id}/runs/{run_id}"
            ).json()
            if run["status"] not in ("PENDING", "RUNNING"):
                return run
            assert time.monotonic() < deadline, run
            time.sleep(0.1)

    def log(self, project_id: str, run_id: str) -> str:
        return self.http.get(f"/api/v1/projects/{project_id}/runs/{run_id}/log").text


@pytest.fixture
def editor(server: Server) -> Iterator[Editor]:
    someone = Editor(server)
    yield someone
    someone.http.close()


def test_a_notebook_cannot_read_the_store_promote_its_author_or_touch_the_server(
    server: Server, editor: Editor
) -> None:
    assert server.process is not None
    # Another project's run is executing meanwhile: its files must be out of reach too.
    admin_project = published_project(server.http, notebook("import time; time.sleep(30)"))
    other_run = server.http.post(f"/api/v1/projects/{admin_project}/runs", json={}).json()
    server.wait_for(admin_project, other_run["runId"], {"RUNNING"})
    others = run_folders()
    assert others, "the other run's kernel has a folder on the host"

    attempts = attempts_notebook(
        server.home, server.home / "runyard.db", {"server": server.process.pid}, others
    )
    project_id, run = editor.run(attempts)

    assert run["status"] == "COMPLETED", editor.log(project_id, str(run["runId"]))
    results = attempt_results(editor.http, project_id, str(run["runId"]), editor.token)
    succeeded = {name: result for name, result in results.items() if "SUCCEEDED" in result}
    assert succeeded == {}
    assert "no other kernel's folder" not in results["list other runs' folders"]
    assert len(results) == 9
    me = editor.http.get("/api/v1/users/me").json()
    assert me["role"] == "EDITOR"
    assert process_alive(server.process.pid)
    assert server.http.get("/api/v1/users/me").status_code == 200
    server.http.delete(f"/api/v1/projects/{admin_project}/runs/{other_run['runId']}")


def test_a_process_a_notebook_leaves_running_is_gone_when_the_run_ends(
    server: Server, editor: Editor
) -> None:
    marker = f"{time.time_ns() % 10**9 + 10**9}"  # a sleep length no one else uses
    project_id, run = editor.run(
        notebook(
            "import subprocess\n"
            f"subprocess.Popen(['sleep', '{marker}'], start_new_session=True,"
            " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            f"subprocess.Popen(['sh', '-c', 'nohup sleep {marker} &'])"
        )
    )

    assert run["status"] == "COMPLETED", editor.log(project_id, str(run["runId"]))
    assert processes_with(marker) == []


@pytest.mark.parametrize(
    "allocation",
    [
        # Written to, so resident (memory only reserved is not memory used): the watch.
        f"hog = b'x' * ({MEMORY_LIMIT_MB * 2} * 2**20)",
        # Far past the limit at once: refused by the backstop, with MemoryError.
        f"hog = bytearray({MEMORY_LIMIT_MB * 10} * 2**20)",
    ],
    ids=["used", "reserved-far-past"],
)
def test_allocating_past_the_memory_limit_errors_the_run_and_says_why(
    server: Server, editor: Editor, allocation: str
) -> None:
    project_id, run = editor.run(notebook(allocation, "import time; time.sleep(5)"))

    assert run["status"] == "ERRORED"
    log = editor.log(project_id, str(run["runId"]))
    assert f"exceeded its memory limit of {MEMORY_LIMIT_MB} MB" in log
    assert server.http.get("/api/v1/users/me").status_code == 200


def test_a_projects_own_memory_limit_applies_to_its_runs(server: Server, editor: Editor) -> None:
    below_the_servers = MEMORY_LIMIT_MB * 2 // 3
    project_id = published_project(
        editor.http,
        notebook(f"hog = b'x' * ({below_the_servers} * 2**20)", "import time; time.sleep(5)"),
    )
    patched = editor.http.patch(f"/api/v1/projects/{project_id}", json={"memoryLimitMb": 100})
    assert patched.status_code == 200, patched.text
    assert patched.json()["memoryLimitMb"] == 100

    limited = editor.wait(project_id, editor.trigger(project_id))
    editor.http.patch(f"/api/v1/projects/{project_id}", json={"memoryLimitMb": None})
    unlimited = editor.wait(project_id, editor.trigger(project_id))

    assert limited["status"] == "ERRORED"
    assert "exceeded its memory limit of 100 MB" in str(limited["error"])
    assert unlimited["status"] == "COMPLETED"


def test_processes_that_together_pass_the_memory_limit_are_killed(
    server: Server, editor: Editor
) -> None:
    # Each child stays under the limit on its own; together they pass it.
    each = MEMORY_LIMIT_MB * 2 // 3
    child = f"import time; x = b'x' * ({each} * 2**20); time.sleep(60)"
    project_id, run = editor.run(
        notebook(
            "import subprocess, sys, time\n"
            f"children = [subprocess.Popen([sys.executable, '-c', {child!r}]) for _ in range(2)]\n"
            "time.sleep(60)"
        )
    )

    assert run["status"] == "ERRORED"
    assert f"exceeded its memory limit of {MEMORY_LIMIT_MB} MB" in str(run.get("error", "")) or (
        f"exceeded its memory limit of {MEMORY_LIMIT_MB} MB"
        in editor.log(project_id, str(run["runId"]))
    )
    assert server.http.get("/api/v1/users/me").status_code == 200


def test_a_flood_of_output_is_cut_and_the_server_keeps_answering(
    server: Server, editor: Editor
) -> None:
    project_id = published_project(
        editor.http,
        notebook(
            "import sys\nline = 'x' * 1023 + '\\n'\n"
            "for _ in range(200 * 1024):\n    sys.stdout.write(line)",
            "print('after the flood')",
        ),
    )
    # The kernel buffers what it prints until the runner takes it: more than this module's
    # low memory limit while the flood lasts. The project gets the server's usual room.
    raised = editor.http.patch(f"/api/v1/projects/{project_id}", json={"memoryLimitMb": 4096})
    assert raised.status_code == 200, raised.text
    run_id = editor.trigger(project_id)
    answered: list[float] = []
    failures: list[str] = []
    done = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=str(server.http.base_url), timeout=2) as http:
            while not done.is_set():
                started = time.monotonic()
                try:
                    status = http.get("/api/v1/users/me", headers=bearer(editor.token)).status_code
                except httpx.TransportError as error:
                    failures.append(repr(error))
                else:
                    if status != 200:
                        failures.append(str(status))
                    answered.append(time.monotonic() - started)
                time.sleep(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        run = editor.wait(project_id, run_id, timeout=300)
    finally:
        done.set()
        poller.join()

    assert run["status"] == "COMPLETED", editor.log(project_id, run_id)
    assert failures == []
    assert answered
    executed = editor.http.get(f"/api/v1/projects/{project_id}/runs/{run_id}/notebook").json()
    flood_text = "".join(o.get("text", "") for o in executed["cells"][0]["outputs"])
    assert len(flood_text) < 11 * 2**20
    assert "output cut here" in flood_text
    assert "after the flood" in executed["cells"][1]["outputs"][0]["text"]
    assert "output cut" in editor.log(project_id, run_id)


def test_files_past_the_size_limit_cannot_be_written(server: Server, editor: Editor) -> None:
    _, run = editor.run(
        notebook(
            "chunk = b'x' * 2**20\n"
            "with open('big.bin', 'wb') as handle:\n"
            f"    for _ in range({FILES_LIMIT_MB * 2}):\n"
            "        handle.write(chunk)"
        )
    )

    assert run["status"] == "ERRORED"
    error = run.get("error")
    assert isinstance(error, dict)
    assert error.get("ename") == "OSError", error


def test_bwrap_without_bubblewrap_refuses_to_start_and_auto_warns(tmp_path: Path) -> None:
    # A PATH with what Runyard needs besides bubblewrap.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("setpriv", "prlimit"):
        (bin_dir / tool).symlink_to(f"/usr/bin/{tool}")
    env = {**os.environ, "PATH": str(bin_dir), "RUNYARD_KERNEL_SANDBOX": "bwrap"}
    env["RUNYARD_HOME"] = str(tmp_path / "refused")
    env["RUNYARD_PORT"] = str(free_port())

    refused = subprocess.run(
        [str(RUNYARD), "serve"], env=env, capture_output=True, text=True, timeout=60
    )

    assert refused.returncode != 0
    assert "RUNYARD_KERNEL_SANDBOX=bwrap" in refused.stdout + refused.stderr
    assert "bubblewrap" in refused.stdout + refused.stderr

    with serving(tmp_path / "fallback", PATH=str(bin_dir)) as fallback:
        project_id = published_project(fallback.http, notebook("print('ran')"))
        run_id = fallback.http.post(f"/api/v1/projects/{project_id}/runs", json={}).json()["runId"]
        run = fallback.wait_for(project_id, run_id, {"COMPLETED", "ERRORED"})
        assert run["status"] == "COMPLETED"
    log = (tmp_path / f"serve-{fallback.port}.log").read_text()
    assert "Kernels run WITHOUT a sandbox" in log
