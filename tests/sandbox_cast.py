"""What a hostile notebook tries, for the sandbox tests on `runyard serve` and on workers.

Each attempt runs in a cell of a real run as an EDITOR, and records whether it was blocked;
the tests then check the server's side too (the role in the store, the server alive).
"""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path
from typing import Any

import httpx

from tests.cast import bearer, notebook

ATTEMPTS_CELL = """
import glob, json, os, signal, sqlite3
results = {}

def attempt(name, action):
    try:
        value = action()
    except Exception as exc:
        results[name] = f"blocked: {type(exc).__name__}: {exc}"
    else:
        results[name] = f"SUCCEEDED: {value!r}"[:300]

def promote():
    store = sqlite3.connect(STORE, timeout=1)
    store.execute("UPDATE users SET role = 'ADMIN'")
    store.commit()
    return store.total_changes

def list_any(paths):
    # A pooled kernel may have been started before the test took its list of folders, so the
    # list can hold this kernel's own folder, which it may of course read.
    from ipykernel.connect import get_connection_file
    mine = os.path.dirname(os.path.realpath(get_connection_file()))
    others = [path for path in paths if os.path.realpath(path) != mine]
    if not others:
        raise LookupError("no other kernel's folder to list")
    return [os.listdir(path) for path in others]

attempt("read the secret key", lambda: open(os.path.join(HOME, "secret.key")).read())
attempt("list RUNYARD_HOME", lambda: os.listdir(HOME))
attempt("read the store", lambda: open(STORE, "rb").read(64))
attempt("make myself ADMIN in the store", promote)
attempt("read /proc/1/environ", lambda: open("/proc/1/environ", "rb").read())
for name, pid in PIDS.items():
    attempt(f"read the {name}'s environ", lambda: open(f"/proc/{pid}/environ", "rb").read())
    attempt(f"kill the {name}", lambda: os.kill(pid, signal.SIGKILL))
attempt("list other runs' folders", lambda: list_any(OTHER_RUN_FOLDERS))
def other_processes():
    others = [pid for pid in os.listdir("/proc") if pid.isdigit() and int(pid) > 2]
    if not others:
        raise LookupError("only the kernel and its sandbox's init")
    return others

attempt("see other processes", other_processes)
print(json.dumps(results))
"""


def attempts_notebook(
    home: Path, store: Path, pids: dict[str, int], other_run_folders: list[str]
) -> dict[str, Any]:
    """A notebook that tries every attempt above with the host's real paths and pids."""
    setup = (
        f"HOME = {str(home)!r}\nSTORE = {str(store)!r}\nPIDS = {pids!r}\n"
        f"OTHER_RUN_FOLDERS = {other_run_folders!r}"
    )
    return notebook(setup, ATTEMPTS_CELL)


def run_folders() -> list[str]:
    """The kernels' private folders on this host right now."""
    return sorted(glob.glob("/tmp/runyard-kernel-*"))


def attempt_results(http: httpx.Client, project_id: str, run_id: str, token: str) -> dict[str, str]:
    executed = http.get(
        f"/api/v1/projects/{project_id}/runs/{run_id}/notebook", headers=bearer(token)
    )
    assert executed.status_code == 200, executed.text
    outputs = executed.json()["cells"][-1]["outputs"]
    text = "".join(output.get("text", "") for output in outputs)
    results: dict[str, str] = json.loads(text)
    return results


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def processes_with(argument: str) -> list[int]:
    """Processes on this host with `argument` among their command-line arguments."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argument.encode() in cmdline:
            found.append(int(name))
    return found
