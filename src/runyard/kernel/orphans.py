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
# Versions before each kernel had a folder of its own gave each run a work folder named
# `runyard-run-<random>`; a host upgraded after a crash may still hold some.
_LEGACY_RUN_DIR = "runyard-run-"

# How much later than a folder's last change its pid's process must have started to be
# another process that got the same pid. Wall-clock steps (NTP) move the start time read
# from /proc, not the folder's time: a live kernel's folder must never be taken for one.
_CLOCK_SLACK = timedelta(minutes=10)


def remove_orphaned_runtime_dirs(folder: str | None = None) -> int:
    """Remove the kernels' private folders (connection file and signing key, IPC sockets,
    SQL results, the run's work folder) that processes of this host left behind when they
    died; return how many.

    A kernel folder is named for the process that made it (process.RUNTIME_DIR_PREFIX); it
    is kept while that process lives, which the pid alone does not tell once the system has
    given the pid to a process that started after the folder last changed. A legacy run
    work folder (`runyard-run-*`) names no process: it is kept while a process of this host
    works in it. `folder` is the temporary folder to look in.
    """
    root = Path(folder or tempfile.gettempdir())
    removed = 0
    working: set[str] | None = None
    for path in sorted(root.glob("runyard-*")):
        if path.is_symlink() or not path.is_dir():
            continue
        match = _RUNTIME_DIR.match(path.name)
        if match is not None:
            keep = _made_by_a_live_process(path, int(match.group(1)))
        elif path.name.startswith(_LEGACY_RUN_DIR):
            working = _working_directories() if working is None else working
            keep = any(cwd == str(path) or cwd.startswith(f"{path}/") for cwd in working)
        else:
            continue
        if not keep:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _made_by_a_live_process(path: Path, pid: int) -> bool:
    if not _alive(pid):
        return False
    began = started_at(pid)
    if began is None:
        return True  # alive, but when it started cannot be read: keep its folder
    # A process cannot change a folder before it starts: one last changed well before the
    # pid's process started was made by an earlier process that had the same pid.
    try:
        changed = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return True
    return began - changed <= _CLOCK_SLACK


def _working_directories() -> set[str]:
    """The current directories of this host's processes (those this process may read)."""
    found: set[str] = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                found.add(os.readlink(proc / "cwd"))
            except OSError:
                continue
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
