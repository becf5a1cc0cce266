"""The bubblewrap sandbox on its own: what a kernel sees of the host's files and network."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import service_missing

from runyard.kernel.runner import KernelJob, RunOutcome, run_notebook
from runyard.kernel.sandbox import Sandbox, SandboxUnavailable, sandbox_for

pytestmark = [pytest.mark.kernel]

NotebookFactory = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module", autouse=True)
def _bubblewrap_works() -> None:
    _, warning = sandbox_for("auto")
    if warning is not None:
        service_missing(f"bubblewrap cannot sandbox kernels on this machine: {warning}")


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def _printed(result: Any) -> str:
    return "".join(o.get("text", "") for o in result.executed_notebook["cells"][0]["outputs"])


CONNECT = (
    "import socket\n"
    "try:\n"
    "    socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
    "    print('connected')\n"
    "except OSError as error:\n"
    "    print('refused', error)"
)


def test_a_kernel_reaches_the_hosts_network_by_default(
    make_notebook: NotebookFactory, listening_port: int
) -> None:
    sandbox, _ = sandbox_for("bwrap")
    result = run_notebook(
        KernelJob(make_notebook(CONNECT.format(port=listening_port)), {}), sandbox=sandbox
    )

    assert result.outcome is RunOutcome.COMPLETED, result.log
    assert _printed(result).startswith("connected")


def test_without_network_a_kernel_reaches_no_service_of_the_host(
    make_notebook: NotebookFactory, listening_port: int
) -> None:
    sandbox, _ = sandbox_for("bwrap", network=False)
    result = run_notebook(
        KernelJob(make_notebook(CONNECT.format(port=listening_port)), {}), sandbox=sandbox
    )

    assert result.outcome is RunOutcome.COMPLETED, result.log
    assert _printed(result).startswith("refused")


def test_no_network_without_the_sandbox_is_refused() -> None:
    with pytest.raises(SandboxUnavailable, match="RUNYARD_KERNEL_NETWORK=none"):
        sandbox_for("none", network=False)


def test_a_hidden_folder_inside_a_shown_one_stays_hidden(
    make_notebook: NotebookFactory, tmp_path: Path
) -> None:
    # RUNYARD_HOME inside a folder the kernel must see (a work directory kept for the run).
    home = tmp_path / "work" / "home"
    home.mkdir(parents=True)
    (home / "secret.key").write_text("do not read")
    sandbox = Sandbox([home])
    result = run_notebook(
        KernelJob(
            make_notebook(f"import os\nprint(sorted(os.listdir({str(home)!r})))"),
            {},
            cwd=str(tmp_path / "work"),
        ),
        sandbox=sandbox,
    )

    assert result.outcome is RunOutcome.COMPLETED, result.log
    assert _printed(result).strip() == "[]"


def test_common_libraries_work_in_the_sandbox(make_notebook: NotebookFactory) -> None:
    # multiprocessing needs /dev/shm; getpass and database drivers need a user name.
    sandbox, _ = sandbox_for("bwrap")
    result = run_notebook(
        KernelJob(
            make_notebook(
                "import getpass, multiprocessing, os, tempfile\n"
                "with multiprocessing.Pool(2) as pool:\n"
                "    squares = pool.map(abs, [-1, -2, -3])\n"
                "with tempfile.NamedTemporaryFile() as handle:\n"
                "    handle.write(b'x')\n"
                "print(squares, bool(getpass.getuser()), os.path.expanduser('~'))"
            ),
            {},
        ),
        sandbox=sandbox,
    )

    assert result.outcome is RunOutcome.COMPLETED, result.log
    assert _printed(result).strip() == "[1, 2, 3] True /tmp"
