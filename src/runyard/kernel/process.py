"""A kernel process of its own for each run, and the means to make sure it is gone.

The kernel is spawned (fork+exec through subprocess, never a fork of this process) by
jupyter_client, which starts it in a new session: the kernel leads its own process group,
and whatever the notebook starts joins that group. Killing the group kills them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from typing import IO, Any

from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

# How long a kernel asked to shut down may take (atexit handlers, flushing files) before it
# is killed. ipykernel needs about 0.2 s.
GRACEFUL_SHUTDOWN_SECONDS = 3.0

# What we keep of the kernel process's own stdout/stderr (output from before ipykernel
# captures file descriptors 1 and 2, or after it lets go): enough for a start-up traceback.
_OUTPUT_TAIL_BYTES = 8_192

# How long a SIGKILLed kernel may take to die before we give up waiting (see dispose).
_REAP_SECONDS = 30.0


class VenvKernelSpecManager(KernelSpecManager):
    """Resolves the native kernel name ("python3") to ipykernel in this very interpreter.

    A `python3` kernelspec found on the Jupyter path (in the user's home, say) could point at
    another Python; the runner must use the interpreter and packages it was installed with,
    and must work in a fresh venv where no kernelspec was ever installed.
    """

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name == NATIVE_KERNEL_NAME:
            return KernelSpec(resource_dir=RESOURCES, name=kernel_name, **get_kernel_dict())
        return super().get_kernel_spec(kernel_name)


class KernelProcess:
    """One kernel, from launch to the reaping of its process.

    Use from a single event loop, in this order: `launch`, `connect`, then `dispose`
    (always, also when launching failed). Only `kill_group` may be called from any thread.
    """

    def __init__(self, kernel_name: str, *, cwd: str, env: Mapping[str, str]) -> None:
        # The connection file and the IPC sockets live in a private directory (mode 0700):
        # no TCP port is opened, so no other local user can reach the kernel, concurrent
        # runs cannot race for ports, and nothing depends on a writable Jupyter runtime dir.
        self._runtime_dir = tempfile.mkdtemp(prefix="runyard-kernel-")
        self._cwd = cwd
        self._env = dict(env)
        # What the kernel process itself writes (before ipykernel captures file
        # descriptors 1 and 2, or after it lets go): start-up tracebacks, mostly.
        output_path = os.path.join(self._runtime_dir, "kernel-output.log")
        self._output: IO[bytes] = open(output_path, "w+b")  # noqa: SIM115 (closed in dispose)
        self.manager = AsyncKernelManager(
            kernel_name=kernel_name,
            kernel_spec_manager=VenvKernelSpecManager(),
            transport="ipc",
            connection_file=os.path.join(self._runtime_dir, "kernel.json"),
        )
        self.client: AsyncKernelClient | None = None
        self._pid: int | None = None
        self.returncode: int | None = None
        self.ignored_shutdown_request = False

    @property
    def pid(self) -> int | None:
        """The kernel's pid (also its process group id) once launched."""
        return self._pid

    async def launch(self) -> int:
        """Start the kernel process and return its pid; it may not answer requests yet."""
        await self.manager.start_kernel(
            cwd=self._cwd,
            env=self._env,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            # nbclient does the same: a history database per kernel in the user's home
            # would be shared by concurrent kernels and contended for no benefit.
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
        )
        self._pid = self._process().pid
        return self._pid

    async def connect(self, within_seconds: float) -> AsyncKernelClient:
        """Open channels to the kernel and wait until it answers; raise RuntimeError if it
        dies or does not answer within `within_seconds`."""
        client = self.manager.client()
        self.client = client
        # No heartbeat thread (liveness comes from the process itself) and no stdin channel
        # (nobody can answer input() in a batch run).
        client.start_channels(hb=False, stdin=False)
        await client.wait_for_ready(timeout=within_seconds)
        return client

    def kill_group(self) -> None:
        """SIGKILL the kernel and everything in its process group; harmless if already gone.

        Thread-safe, but the caller must make sure the kernel has not been reaped yet (see
        `dispose`): once reaped, its pid is free for the system to give to someone else.
        """
        if self._pid is not None:
            _kill_group(self._pid)

    async def dispose(self, *, graceful: bool) -> None:
        """Stop the kernel and everything it started, reap it, and free every resource.

        1. If `graceful` and the kernel is alive, ask it to shut down (it runs its atexit
           handlers and flushes files) and wait up to GRACEFUL_SHUTDOWN_SECONDS.
        2. Kill its process group, whatever happened: subprocesses the notebook left
           running must not outlive the run. The kernel is not reaped yet, so its pid
           (the group id) cannot have been reused.
        3. Reap the kernel (no zombie), close channels, sockets, the ZMQ context, and remove
           the connection file and the private runtime directory.
        """
        try:
            process = self._process_or_none()
            if graceful and process is not None and self.client is not None:
                await self._shut_down_politely(process, self.client)
            if process is not None:
                # The process itself, not `pid`: a cancel may have interrupted `launch`
                # after the process was spawned but before `pid` was recorded.
                _kill_group(process.pid)
                # SIGKILL was sent, so this returns as soon as the kernel is dead; the bound
                # is for a process stuck in the kernel (uninterruptible I/O), which we would
                # rather report than wait on forever.
                self.returncode = process.wait(timeout=_REAP_SECONDS)
        finally:
            if self.client is not None:
                self.client.stop_channels()
            if self.manager.provisioner is not None:
                # Lets jupyter_client forget the process (already reaped above).
                await self.manager.provisioner.wait()
            await self.manager.cleanup_resources()
            self._output.close()
            shutil.rmtree(self._runtime_dir, ignore_errors=True)

    def output_tail(self) -> str:
        """Return the end of what the kernel process wrote to its own stdout and stderr."""
        if self._output.closed:
            return ""
        self._output.flush()
        size = self._output.seek(0, os.SEEK_END)
        self._output.seek(max(0, size - _OUTPUT_TAIL_BYTES))
        return self._output.read().decode("utf-8", errors="replace")

    async def _shut_down_politely(
        self, process: subprocess.Popen[Any], client: AsyncKernelClient
    ) -> None:
        if process.returncode is not None:
            return  # already reaped: it died on its own
        client.shutdown()
        if not await _wait_for_exit(process, GRACEFUL_SHUTDOWN_SECONDS):
            self.ignored_shutdown_request = True

    def _process(self) -> subprocess.Popen[Any]:
        process = self._process_or_none()
        if process is None:
            raise RuntimeError("The kernel process was not started")
        return process

    def _process_or_none(self) -> subprocess.Popen[Any] | None:
        provisioner = self.manager.provisioner
        process: subprocess.Popen[Any] | None = getattr(provisioner, "process", None)
        return process


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        # The kernel leads its own session, so its pid is also its process group id.
        # If the kernel was already reaped, the id still names its group as long as any
        # member (an orphaned subprocess) is alive; Linux does not reuse it before then.
        os.killpg(pid, signal.SIGKILL)


async def _wait_for_exit(process: subprocess.Popen[Any], seconds: float) -> bool:
    """Wait until `process` has exited, at most `seconds`, WITHOUT reaping it; return
    whether it exited.

    Not reaping matters: the caller still kills the process group afterwards, which is only
    safe while the group leader's pid is held by its zombie.
    """
    loop = asyncio.get_running_loop()
    if sys.platform == "linux":
        # A pidfd becomes readable when the process exits: no polling, no reaping.
        exited = loop.create_future()
        try:
            fd = os.pidfd_open(process.pid)
        except ProcessLookupError:
            return True  # reaped already
        try:
            loop.add_reader(fd, _resolve, exited)
            await asyncio.wait_for(exited, seconds)
        except TimeoutError:
            return False
        finally:
            loop.remove_reader(fd)
            os.close(fd)
        return True
    # Elsewhere, poll without reaping (WNOWAIT leaves the zombie in place).
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
        result = os.waitid(os.P_PID, process.pid, flags)  # noqa: ASYNC222 (WNOHANG: never blocks)
        if result is not None:
            return True
        await asyncio.sleep(0.02)
    return False


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
