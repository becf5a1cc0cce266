"""The log of one run: timestamped runner events and the text the cells printed."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime

logger = logging.getLogger(__name__)

# CSI sequences (colours, cursor moves) and OSC sequences (titles, links): noise in a text log.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")

# A cell that prints without newlines (a progress bar) would otherwise grow one line forever.
_MAX_PENDING = 16_384


def strip_ansi(text: str) -> str:
    """Return `text` without ANSI escape sequences."""
    return _ANSI.sub("", text)


def utc_timestamp() -> str:
    """Return the current time as ISO 8601 in UTC, to the microsecond, with a `Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RunLog:
    """Lines of the form `<ISO 8601 UTC timestamp> <text>`, in the order they happened.

    Safe to write from several threads (the runner, a watchdog, a canceller). Each new line
    is also handed to `sink`, one at a time and in order; a sink that raises is logged and
    otherwise ignored, because live tailing is best effort and must not end a run.
    """

    def __init__(self, sink: Callable[[str], None] | None = None) -> None:
        # Re-entrant: a sink may call back into code that logs (cancel() from on_log, say).
        self._lock = threading.RLock()
        self._lines: list[str] = []
        self._sink = sink
        self._pending: dict[tuple[int, str], str] = {}

    def event(self, message: str) -> None:
        """Record a runner event; a multi-line message becomes several lines."""
        stamp = utc_timestamp()
        with self._lock:
            for line in message.splitlines() or [""]:
                self._append(f"{stamp} {line}")

    def stream(self, cell_index: int, name: str, text: str) -> None:
        """Record text a cell wrote to stream `name` (stdout or stderr).

        Complete lines are logged at once; a trailing partial line waits for the rest of
        it, for `flush_streams`, or until it grows too long.
        """
        with self._lock:
            key = (cell_index, name)
            *complete, rest = (self._pending.pop(key, "") + text).split("\n")
            for line in complete:
                self._stream_line(key, line)
            if len(rest) > _MAX_PENDING:
                self._stream_line(key, rest)
            elif rest:
                self._pending[key] = rest

    def flush_streams(self) -> None:
        """Log the partial lines still waiting for a newline."""
        with self._lock:
            pending, self._pending = self._pending, {}
            for key, line in pending.items():
                self._stream_line(key, line)

    def text(self) -> str:
        """Return the whole log so far, one line per event, newline-terminated."""
        with self._lock:
            return "".join(f"{line}\n" for line in self._lines)

    def _stream_line(self, key: tuple[int, str], line: str) -> None:
        # A carriage return rewrites the line on a terminal; keep what the reader last saw.
        segments = [s for s in strip_ansi(line).split("\r") if s]
        cell_index, name = key
        self._append(
            f"{utc_timestamp()} [cell {cell_index} {name}] {segments[-1] if segments else ''}"
        )

    def _append(self, line: str) -> None:
        self._lines.append(line)
        if self._sink is not None:
            try:
                self._sink(line)
            except Exception:
                logger.exception("on_log callback failed; the run goes on")
