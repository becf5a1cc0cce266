"""The plain values a kernel run takes and gives back.

Nothing here knows how a notebook is executed; these are the only types the worker and the
services need to see, so importing them is cheap (no Jupyter imports).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RunOutcome(StrEnum):
    """How a run ended, as far as the kernel runner can tell."""

    COMPLETED = "COMPLETED"
    ERRORED = "ERRORED"
    KILLED = "KILLED"
    TIMED_OUT = "TIMED_OUT"


@dataclass(frozen=True)
class KernelLimits:
    """What one run's kernel may use; None means no limit.

    `memory_mb` bounds the resident memory of the kernel and everything it starts, taken
    together; `max_processes` the processes and threads they run at once; `max_files_mb` the
    files written in the working directory and in /tmp (each) and any single file.
    `max_cell_output_bytes` and `max_run_output_bytes` bound the output kept per cell and
    per run: past them output is dropped, and the cell and the run log say so.
    """

    memory_mb: int | None = 4096
    max_processes: int | None = 512
    max_files_mb: int | None = 1024
    max_cell_output_bytes: int | None = 10 * 1024 * 1024
    max_run_output_bytes: int | None = 50 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in (
            "memory_mb",
            "max_processes",
            "max_files_mb",
            "max_cell_output_bytes",
            "max_run_output_bytes",
        ):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be positive or None, got {value!r}")


@dataclass(frozen=True)
class KernelJob:
    """Everything one run needs, as plain values.

    `notebook` is an nbformat v4 notebook as a JSON dict; the runner never mutates it.
    `parameters` are already validated plain values (None, bool, int, float, str, and lists
    and dicts of them). `timeout_seconds` bounds the whole run, kernel start included; None
    means no limit. `cwd` is the kernel's working directory; when None the run gets a fresh
    temporary directory that is removed afterwards. `extra_env` is added to (and overrides)
    the environment of this process for the kernel.

    `connections` maps each SQL cell's connection reference (an id or a name) to the
    resolved connection: `{"id", "name", "type", "details"}`, secrets included in clear, so
    it is left out of the repr. `sql_row_limit` caps the rows a SQL cell keeps;
    `sql_query_timeout_seconds` bounds each SQL cell's query (None: only the run's timeout
    does). `limits` bounds what the kernel may use.
    """

    notebook: Mapping[str, Any]
    parameters: Mapping[str, Any]
    timeout_seconds: float | None = None
    kernel_name: str = "python3"
    cwd: str | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    connections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)
    sql_row_limit: int = 100_000
    sql_query_timeout_seconds: float | None = None
    limits: KernelLimits = field(default_factory=KernelLimits)

    def __post_init__(self) -> None:
        if self.timeout_seconds is not None and not self.timeout_seconds > 0:
            raise ValueError(f"timeout_seconds must be positive, got {self.timeout_seconds!r}")
        if self.sql_row_limit < 1:
            raise ValueError(f"sql_row_limit must be positive, got {self.sql_row_limit!r}")
        limit = self.sql_query_timeout_seconds
        if limit is not None and not limit > 0:
            raise ValueError(f"sql_query_timeout_seconds must be positive, got {limit!r}")


@dataclass(frozen=True)
class CellError:
    """The exception a cell raised. `cell_index` counts cells of the executed notebook (the
    injected parameters cell included), from 0; `traceback` lines carry no ANSI colours."""

    cell_index: int
    cell_id: str | None
    ename: str
    evalue: str
    traceback: list[str]


@dataclass(frozen=True)
class KernelResult:
    """What a run produced, whatever its outcome.

    `executed_notebook` holds the outputs of the cells that ran, also when the run failed or
    was stopped. `log` is the run's timestamped log (runner events and the cells' stdout and
    stderr). `error` is set only when a cell raised; `reason` explains every outcome other
    than COMPLETED in words fit for a user.
    """

    outcome: RunOutcome
    executed_notebook: dict[str, Any]
    log: str
    error: CellError | None
    reason: str | None
    started_at: datetime
    ended_at: datetime
