"""Log lines as JSON (`RUNYARD_LOG_FORMAT=json`): one object a line, for log collectors.

Each object has `time` (UTC, ISO 8601), `level`, `logger` and `message`, plus `trace_id`
(the request's, or the run's while a run executes), `run_id` and `project_id` when the line
was logged about a run, and `exception` with the traceback when there is one. The run's ids
come from `run_context`, which the code that executes a run enters; a line may also pass
them itself with `extra={"run_id": …}`.
"""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from runyard.tracing import request_trace_id

_run: ContextVar[tuple[str, str, str] | None] = ContextVar("runyard_log_run", default=None)

_FIELDS = ("run_id", "project_id", "trace_id")


@contextmanager
def run_context(run_id: str, project_id: str, trace_id: str) -> Iterator[None]:
    """Lines logged inside carry this run's ids."""
    token = _run.set((run_id, project_id, trace_id))
    try:
        yield
    finally:
        _run.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        run = _run.get()
        if run is not None:
            line.update(zip(_FIELDS, run, strict=True))
        elif (trace_id := request_trace_id()) is not None:
            line["trace_id"] = trace_id
        for name in _FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def logging_config(level: str, json_lines: bool) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the server processes: every logger (Runyard's,
    uvicorn's, Celery's) through one handler on stderr, as JSON or as plain text."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if json_lines
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"runyard": formatter},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "runyard"},
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        # uvicorn's own handlers are replaced: its lines reach the root's.
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure(level: str, json_lines: bool) -> None:
    logging.config.dictConfig(logging_config(level, json_lines))
