"""A cast of notebooks and process checks for the kernel runner's tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

NotebookFactory = Callable[..., dict[str, Any]]


def _cell(source: str, *tags: str, cell_type: str = "code", **metadata: Any) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": cell_type,
        "id": f"cell-{abs(hash((source, tags))) % 10**8}",
        "metadata": {"tags": list(tags), **metadata} if tags or metadata else {},
        "source": source,
    }
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


@pytest.fixture(scope="session")
def cell() -> Callable[..., dict[str, Any]]:
    """`cell(source, *tags, cell_type="code", **metadata)` builds one nbformat v4.5 cell."""
    return _cell


@pytest.fixture(scope="session")
def make_notebook() -> NotebookFactory:
    """`make_notebook(*cells)`: a cell is a source string (a code cell) or a cell dict."""

    def make(*cells: str | dict[str, Any]) -> dict[str, Any]:
        return {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
            },
            "cells": [_cell(c) if isinstance(c, str) else c for c in cells],
        }

    return make


def _process_state(pid: int) -> str | None:
    """The process's state letter from /proc (R, S, Z…), or None if there is no such pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _reaped(pid: int) -> bool:
    """True if `pid` (a child of this process) is gone entirely: dead, and no zombie left."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return _process_state(pid) is None
    return False


def _dead(pid: int) -> bool:
    """True if `pid` no longer runs. An orphan may stay a zombie: its new parent is init,
    and reaping it is init's job (in this VM, init does not reap promptly)."""
    return _process_state(pid) in {None, "Z", "X"}


@pytest.fixture(scope="session")
def reaped() -> Callable[[int], bool]:
    """`reaped(pid)`: is this child of ours dead and reaped (not even a zombie)?"""
    return _reaped


@pytest.fixture(scope="session")
def dead() -> Callable[[int], bool]:
    """`dead(pid)`: has this process (not our child) stopped running?"""
    return _dead


def _our_children() -> list[int]:
    me = str(os.getpid())
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields[1] == me:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture(scope="session")
def our_children() -> Callable[[], list[int]]:
    """`our_children()`: pids of this process's children, zombies included."""
    return _our_children
