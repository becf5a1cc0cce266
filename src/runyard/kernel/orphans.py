"""Killing kernels that outlived the process that started them (a server killed with -9).

A kernel leads its own process group (see process.py), so the group is what gets killed.
Pids are reused by the system: a pid is only killed if it still leads its own group and its
command line is an ipykernel's, so an unrelated process that inherited the number is safe.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path


def is_kernel_process(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        leads_group = os.getpgid(pid) == pid
    except (OSError, ProcessLookupError):
        return False
    return leads_group and b"ipykernel" in cmdline


def kill_orphaned_kernel(pid: int) -> bool:
    """SIGKILL the kernel `pid` and its process group; True if it was there to kill."""
    if not is_kernel_process(pid):
        return False
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True
