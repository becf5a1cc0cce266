"""Killing kernels that outlived the process that started them (a server killed with -9).

A kernel leads its own process group (see process.py), so the group is what gets killed.
Pids are reused by the system: a pid is only killed if it still leads its own group, its
command line is an ipykernel's and, when the caller knows when the kernel was started, the
process started then. So an unrelated process that inherited the number is safe, and so is
another run's kernel that did.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path


def is_kernel_process(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        leads_group = os.getpgid(pid) == pid
    except (OSError, ProcessLookupError):
        return False
    return leads_group and b"ipykernel" in cmdline


# How long after a run is claimed its kernel may have started: it is spawned at once, but a
# loaded machine may take a while to get there.
_SPAWN_WINDOW = timedelta(seconds=120)


def started_at(pid: int) -> datetime | None:
    """When process `pid` started, from /proc (None if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/stat").read_text()
    except OSError:
        return None
    # Field 22, counted after the command name, which may hold spaces and parentheses.
    ticks = int(stat.rsplit(")", 1)[1].split()[19])
    booted = next(int(line.split()[1]) for line in boot.splitlines() if line.startswith("btime"))
    return datetime.fromtimestamp(booted + ticks / os.sysconf("SC_CLK_TCK"), UTC)


def kill_orphaned_kernel(pid: int, run_claimed_at: datetime | None = None) -> bool:
    """SIGKILL the kernel `pid` and its process group; True if it was there to kill.

    With `run_claimed_at`, only a process that started in the moments after that instant
    counts as the run's kernel.
    """
    if not is_kernel_process(pid):
        return False
    if run_claimed_at is not None:
        began = started_at(pid)
        # /proc counts in clock ticks and boot time in whole seconds: allow a second early.
        earliest = run_claimed_at - timedelta(seconds=1)
        if began is None or not earliest <= began <= run_claimed_at + _SPAWN_WINDOW:
            return False
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


_RUNTIME_DIR = re.compile(r"^runyard-kernel-(\d+)-")


def remove_orphaned_runtime_dirs(folder: str | None = None) -> int:
    """Remove the kernels' private folders (connection file and signing key, IPC sockets,
    SQL results) that processes of this host left behind when they died; return how many.

    A folder is named for the process that made it (process.RUNTIME_DIR_PREFIX); those of
    processes still alive are left alone. `folder` is the temporary folder to look in.
    """
    root = Path(folder or tempfile.gettempdir())
    removed = 0
    for path in root.glob("runyard-kernel-*"):
        match = _RUNTIME_DIR.match(path.name)
        if match is None or not path.is_dir() or _alive(int(match.group(1))):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
