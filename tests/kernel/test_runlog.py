from __future__ import annotations

import re

from runyard.kernel.runlog import RunLog, strip_ansi

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"


def bodies(log: RunLog) -> list[str]:
    lines = log.text().splitlines()
    assert all(re.match(f"^{STAMP} ", line) for line in lines), lines
    return [line.split(" ", 1)[1] for line in lines]


def test_events_are_timestamped_one_line_each() -> None:
    log = RunLog()

    log.event("kernel started pid=1")
    log.event("first\nsecond")

    assert bodies(log) == ["kernel started pid=1", "first", "second"]


def test_partial_stream_lines_wait_for_their_end() -> None:
    log = RunLog()

    log.stream(2, "stdout", "hel")
    log.stream(2, "stderr", "oops\n")
    log.stream(2, "stdout", "lo\nwor")
    log.flush_streams()

    assert bodies(log) == [
        "[cell 2 stderr] oops",
        "[cell 2 stdout] hello",
        "[cell 2 stdout] wor",
    ]


def test_progress_bars_keep_their_last_state_without_colours() -> None:
    log = RunLog()

    log.stream(0, "stderr", "\x1b[32m 10%\r 50%\r100%\x1b[0m\r\n")

    assert bodies(log) == ["[cell 0 stderr] 100%"]


def test_each_line_reaches_the_sink_and_a_failing_sink_is_ignored() -> None:
    seen: list[str] = []

    def sink(line: str) -> None:
        seen.append(line)
        raise RuntimeError("tail broke")

    log = RunLog(sink)
    log.event("one")
    log.stream(0, "stdout", "two\n")

    assert seen == log.text().splitlines()


def test_strip_ansi_removes_colours_and_titles() -> None:
    assert strip_ansi("\x1b[1;31mred\x1b[0m \x1b]0;title\x07plain") == "red plain"
