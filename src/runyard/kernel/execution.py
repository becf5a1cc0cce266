"""Executing a notebook's cells, in order, on a kernel that is already running."""

from __future__ import annotations

import time
from typing import Any

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError
from nbformat import NotebookNode

from runyard.kernel.results import CellError
from runyard.kernel.runlog import RunLog, strip_ansi
from runyard.kernel.sql_cells import is_sql_cell


class CellFailedError(Exception):
    """A cell raised, and the run stops there."""

    def __init__(self, error: CellError) -> None:
        super().__init__(f"Cell {error.cell_index} raised {error.ename}: {error.evalue}")
        self.error = error


class KernelDiedError(Exception):
    """The kernel process went away, while running cell `cell_index` if not None."""

    def __init__(self, cell_index: int | None) -> None:
        where = "" if cell_index is None else f" while running cell {cell_index}"
        super().__init__(f"Kernel died{where}")
        self.cell_index = cell_index


class UnsupportedCellError(Exception):
    """A cell the runner does not know how to execute."""

    def __init__(self, cell_index: int, what: str) -> None:
        super().__init__(f"Cell {cell_index} is {what}, which this runner cannot execute yet")
        self.cell_index = cell_index


class _LoggingClient(NotebookClient):
    """nbclient's executor, also copying stream output to the run log as it arrives."""

    def __init__(self, nb: NotebookNode, km: AsyncKernelManager, log: RunLog) -> None:
        super().__init__(nb, km=km)
        self.run_log = log

    def output(
        self,
        outs: list[NotebookNode],
        msg: dict[str, Any],
        display_id: str | None,
        cell_index: int,
    ) -> NotebookNode | None:
        if msg["msg_type"] == "stream":
            content = msg["content"]
            self.run_log.stream(cell_index, content.get("name", "stdout"), content.get("text", ""))
        return super().output(outs, msg, display_id, cell_index)


class NotebookExecution:
    """Runs the code cells of `nb` (mutating it: outputs, execution counts, language_info).

    Markdown and raw cells, empty cells and cells tagged `skip-execution` are left alone.
    A cell tagged `raises-exception` may raise and the run goes on, as in nbclient and
    papermill; any other cell that raises stops the run.
    """

    def __init__(
        self,
        nb: NotebookNode,
        manager: AsyncKernelManager,
        kernel_client: AsyncKernelClient,
        log: RunLog,
    ) -> None:
        self._log = log
        self._kernel_client = kernel_client
        self._started: dict[int, float] = {}
        self._error: CellError | None = None
        self.current_cell: int | None = None
        client = _LoggingClient(nb, manager, log)
        # No per-cell timeout: the run as a whole has a deadline, enforced by a watchdog
        # that kills the kernel (an interrupt cannot stop C code or a `while True: pass`
        # that swallows KeyboardInterrupt).
        client.timeout = None
        client.kc = kernel_client
        client.on_cell_execute = self._on_cell_execute
        client.on_cell_executed = self._on_cell_executed
        client.on_cell_error = self._on_cell_error
        self._client = client

    async def run(self) -> None:
        """Execute every cell; raise CellFailedError, KernelDiedError or UnsupportedCellError
        to stop the run."""
        try:
            await self._run()
        except DeadKernelError:
            self._log.flush_streams()
            raise KernelDiedError(self.current_cell) from None

    async def _run(self) -> None:
        client = self._client
        await self._record_language_info()
        for index, cell in enumerate(client.nb.cells):
            if is_sql_cell(cell):
                raise UnsupportedCellError(index, "a SQL cell")
            self.current_cell = index
            self._error = None
            try:
                await client.async_execute_cell(
                    cell, index, execution_count=client.code_cells_executed + 1
                )
            except CellExecutionError as exc:
                # nbclient calls on_cell_error (which has the structured reply) first.
                error = self._error or CellError(
                    cell_index=index,
                    cell_id=cell.get("id"),
                    ename=exc.ename,
                    evalue=exc.evalue,
                    traceback=strip_ansi(exc.traceback).splitlines(),
                )
                raise CellFailedError(error) from None
        self.current_cell = None
        client.set_widgets_metadata()

    async def _record_language_info(self) -> None:
        client = self._client
        reply = await client.async_wait_for_reply(self._kernel_client.kernel_info())
        if reply is not None and "language_info" in reply["content"]:
            client.nb.metadata["language_info"] = reply["content"]["language_info"]

    def _on_cell_execute(self, cell: NotebookNode, cell_index: int) -> None:
        self._started[cell_index] = time.monotonic()
        self._log.event(f"cell {cell_index} started")

    def _on_cell_executed(
        self, cell: NotebookNode, cell_index: int, execute_reply: dict[str, Any]
    ) -> None:
        self._log.flush_streams()
        elapsed = time.monotonic() - self._started.pop(cell_index, time.monotonic())
        status = (execute_reply or {}).get("content", {}).get("status", "unknown")
        self._log.event(f"cell {cell_index} finished ({status}) in {elapsed:.3f}s")

    def _on_cell_error(
        self, cell: NotebookNode, cell_index: int, execute_reply: dict[str, Any]
    ) -> None:
        content = execute_reply["content"]
        error = CellError(
            cell_index=cell_index,
            cell_id=cell.get("id"),
            ename=content.get("ename", "Error"),
            evalue=content.get("evalue", ""),
            traceback=[strip_ansi(line) for line in content.get("traceback", [])],
        )
        self._error = error
        self._log.event(f"cell {cell_index} raised {error.ename}: {error.evalue}")
        self._log.event("\n".join(error.traceback))
