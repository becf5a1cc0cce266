"""Executing a notebook's cells, in order, on a kernel that is already running."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Mapping
from typing import Any, Never

import nbformat
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError
from nbformat import NotebookNode

from runyard.kernel.results import CellError
from runyard.kernel.runlog import RunLog, strip_ansi
from runyard.kernel.sql_cache import CachedResult, CacheKey, SqlCache, age_text
from runyard.kernel.sql_cells import (
    QueryResult,
    SqlCellError,
    is_sql_cell,
    load_code,
    placeholders,
    run_query,
    sql_cell_of,
    values_expression,
    values_of,
)
from runyard.kernel.sql_interrupt import QueryTimedOut, run_interruptibly

# The limit a SQL query's session gets on a PostgreSQL or MySQL server is this much later
# than the runner's own (the query's limit, or the end of the run): it only matters when the
# runner died mid-query and could not interrupt it, and must not beat the runner's interrupt,
# whose error says more.
SERVER_LIMIT_GRACE_SECONDS = 30.0


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
    """nbclient's executor, also copying stream output to the run log as it arrives, and
    keeping no more output than the limits per cell and per run allow."""

    def __init__(
        self,
        nb: NotebookNode,
        km: AsyncKernelManager,
        log: RunLog,
        cell_limit: int | None,
        run_limit: int | None,
    ) -> None:
        super().__init__(nb, km=km)
        self.run_log = log
        self._cell_limit = cell_limit
        self._run_limit = run_limit
        self._cell_bytes: dict[int, int] = {}
        self._run_bytes = 0
        self._cut: set[int] = set()

    def output(
        self,
        outs: list[NotebookNode],
        msg: dict[str, Any],
        display_id: str | None,
        cell_index: int,
    ) -> NotebookNode | None:
        if cell_index in self._cut or not self._within_limits(outs, msg, cell_index):
            return None
        if msg["msg_type"] == "stream":
            content = msg["content"]
            self.run_log.stream(cell_index, content.get("name", "stdout"), content.get("text", ""))
        return super().output(outs, msg, display_id, cell_index)

    def _within_limits(self, outs: list[NotebookNode], msg: dict[str, Any], index: int) -> bool:
        """Count the message's output; past a limit, note the cut once and drop the rest of
        this cell's output."""
        size = _output_size(msg)
        cell = self._cell_bytes.get(index, 0) + size
        run = self._run_bytes + size
        if self._cell_limit is not None and cell > self._cell_limit:
            what = f"this cell's output passed its limit of {_megabytes(self._cell_limit)}"
        elif self._run_limit is not None and run > self._run_limit:
            what = f"the run's output passed its limit of {_megabytes(self._run_limit)}"
        else:
            self._cell_bytes[index] = cell
            self._run_bytes = run
            return True
        self._cut.add(index)
        self.run_log.flush_streams()
        self.run_log.event(f"cell {index}: output cut, {what}; the rest is dropped")
        outs.append(
            nbformat.v4.new_output(  # type: ignore[no-untyped-call]  # no hints
                "stream", name="stderr", text=f"[Runyard: output cut here: {what}]\n"
            )
        )
        return False


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
        *,
        exchange_dir: str,
        connections: Mapping[str, Mapping[str, Any]] | None = None,
        sql_row_limit: int = 100_000,
        sql_query_timeout: float | None = None,
        sql_cache: SqlCache | None = None,
        run_due: float | None = None,
        cell_output_limit: int | None = None,
        run_output_limit: int | None = None,
    ) -> None:
        self._log = log
        # The runner writes SQL results here and the kernel reads them, at the same path.
        self._exchange_dir = exchange_dir
        # Resolved data connections by the reference SQL cells use (id or name).
        self._connections = connections or {}
        self._sql_row_limit = sql_row_limit
        self._sql_query_timeout = sql_query_timeout
        # Kept results: reused when the run allows it, refreshed by every fresh query.
        self._sql_cache = sql_cache
        # When (time.monotonic()) the run's deadline passes, if it has one.
        self._run_due = run_due
        self._kernel_client = kernel_client
        self._started: dict[int, float] = {}
        self._error: CellError | None = None
        self.current_cell: int | None = None
        client = _LoggingClient(nb, manager, log, cell_output_limit, run_output_limit)
        # No per-cell timeout: the run as a whole has a deadline, enforced by a watchdog
        # that kills the kernel (an interrupt cannot stop C code or a `while True: pass`
        # that swallows KeyboardInterrupt).
        client.timeout = None
        client.kc = kernel_client
        client.on_cell_execute = self._on_cell_execute
        client.on_cell_executed = self._on_cell_executed
        client.on_cell_error = self._on_cell_error
        self._client = client

    async def set_environment(self, env: Mapping[str, str]) -> None:
        """Add `env` to the kernel's environment, silently (no output, no history)."""
        code = f"__import__('os').environ.update({dict(env)!r})"
        msg_id = self._kernel_client.execute(code, silent=True, store_history=False)
        await self._client.async_wait_for_reply(msg_id)

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
            self.current_cell = index
            self._error = None
            if cell.get("cell_type") == "code" and is_sql_cell(cell):
                await self._run_sql_cell(cell, index)
            else:
                await self._execute(cell, index)
        self.current_cell = None
        client.set_widgets_metadata()

    async def _execute(self, cell: NotebookNode, index: int) -> None:
        client = self._client
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

    async def _run_sql_cell(self, cell: NotebookNode, index: int) -> None:
        """Query in this process (the kernel never sees the connection's secrets), or reuse
        a kept result when the run allows it, then have the kernel load the result under
        the cell's output name and show it.

        The query is interrupted, with its driver's own means, when the run stops (this
        task is cancelled) or the query's time limit passes; the latter fails the cell.
        """
        log = self._log
        log.event(f"cell {index} started (SQL)")
        cell.outputs = []
        cache = self._sql_cache
        note = None
        try:
            spec = sql_cell_of(cell)
            connection = self._connections.get(spec.connection)
            if connection is None:
                raise SqlCellError(
                    "ConnectionNotResolved",
                    f"data connection {spec.connection!r} was not resolved for this run",
                )
            names = placeholders(spec.sql)
            values = await self._kernel_values(names) if names else {}
            path = os.path.join(self._exchange_dir, f"sql-cell-{index}.parquet")
            key = CacheKey(connection["id"], spec.sql, values, self._sql_row_limit)
            # The lookup reads the store (and checks the requester's access): a thread keeps
            # the loop free to notice a stop meanwhile.
            cached = await asyncio.to_thread(cache.lookup, key) if cache and cache.reuse else None
            if cached is None:
                result = await self._query(index, connection, spec.sql, values, path)
            else:
                result = await asyncio.to_thread(_reused, cached, path)
        except SqlCellError as exc:
            self._fail_sql_cell(cell, index, exc)
        # Bound values are not logged: a parameter may be secret.
        truncated = " (truncated)" if result.truncated else ""
        shape = f"{result.rows} rows{truncated}, {result.columns} columns"
        where = f"{connection['type']} connection {connection['id']}"
        if cached is not None:
            log.event(
                f"cell {index} reused a cached result of {where} (useCachedSqlResults):"
                f" {shape}, queried {cached.queried_at:%Y-%m-%d %H:%M:%S} UTC,"
                f" {age_text(cached.age_seconds)} ago (cache lifetime"
                f" {cached.lifetime_seconds}s)"
            )
            note = (
                f"Cached result of data connection {connection['name']!r}, queried"
                f" {cached.queried_at:%Y-%m-%d %H:%M:%S} UTC ({age_text(cached.age_seconds)}"
                " ago); run with useCachedSqlResults: false to query it again."
            )
        else:
            bypassed = " (useCachedSqlResults is false)" if cache and not cache.reuse else ""
            log.event(f"cell {index} queried {where}{bypassed}: {shape} in {result.seconds:.3f}s")
            if cache is not None:
                kept = await asyncio.to_thread(lambda: cache.keep(key, _read(path), result))
                log.event(f"cell {index} (SQL): {kept}")
        source = cell.source
        cell.source = load_code(spec.output, path, result, self._sql_row_limit, note)
        try:
            await self._execute(cell, index)
        finally:
            cell.source = source

    async def _query(
        self,
        index: int,
        connection: Mapping[str, Any],
        sql: str,
        values: Mapping[str, Any],
        path: str,
    ) -> QueryResult:
        """Run the query on its connection, writing its result to `path`."""
        server_limit = self._server_time_limit()
        limit = self._sql_query_timeout
        try:
            # The driver blocks: a thread keeps the loop free to notice a stop.
            return await run_interruptibly(
                lambda interrupt: run_query(
                    connection,
                    sql,
                    values,
                    row_limit=self._sql_row_limit,
                    path=path,
                    interrupt=interrupt,
                    server_time_limit=server_limit,
                ),
                time_limit=limit,
                on_event=lambda message: self._log.event(f"cell {index} (SQL): {message}"),
            )
        except QueryTimedOut:
            raise SqlCellError(
                "SqlQueryTimeout",
                f"the query on data connection {connection['name']!r} ({connection['id']})"
                f" ran past the SQL query time limit of {limit:g}s and was interrupted",
            ) from None

    def _server_time_limit(self) -> float | None:
        """The limit for the database server to enforce on the query about to start."""
        limits = []
        if self._sql_query_timeout is not None:
            limits.append(self._sql_query_timeout)
        if self._run_due is not None:
            limits.append(max(0.0, self._run_due - time.monotonic()))
        return min(limits) + SERVER_LIMIT_GRACE_SECONDS if limits else None

    async def _kernel_values(self, names: list[str]) -> dict[str, Any]:
        """The kernel's values of `names`, read by a silent user expression (no output, no
        history, nothing defined in the kernel's namespace)."""
        expression = values_expression(names)
        msg_id = self._kernel_client.execute(
            "", silent=True, store_history=False, user_expressions={"values": expression}
        )
        reply = await self._client.async_wait_for_reply(msg_id)
        if reply is None:
            raise SqlCellError("KernelError", "the kernel did not answer")
        answer = reply["content"].get("user_expressions", {}).get("values", {})
        return values_of(names, answer)

    def _fail_sql_cell(self, cell: NotebookNode, index: int, exc: SqlCellError) -> Never:
        error = CellError(
            cell_index=index,
            cell_id=cell.get("id"),
            ename=exc.ename,
            evalue=exc.message,
            traceback=[f"{exc.ename}: {exc.message}"],
        )
        cell.outputs.append(
            nbformat.v4.new_output(  # type: ignore[no-untyped-call]  # no hints
                "error", ename=error.ename, evalue=error.evalue, traceback=error.traceback
            )
        )
        self._log.event(f"cell {index} raised {error.ename}: {error.evalue}")
        raise CellFailedError(error)

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


def _reused(cached: CachedResult, path: str) -> QueryResult:
    """Write a kept result where the kernel reads it; its shape as a query's would be."""
    with open(path, "wb") as file:
        file.write(cached.content)
    return QueryResult(
        rows=cached.rows, columns=cached.columns, truncated=cached.truncated, seconds=0.0
    )


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _output_size(msg: dict[str, Any]) -> int:
    """About how many bytes an output message adds to the notebook."""
    content = msg.get("content", {})
    if msg["msg_type"] == "stream":
        return len(content.get("text", ""))
    data = content.get("data")
    if isinstance(data, dict):
        return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data.values())
    return len(json.dumps(content))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"
