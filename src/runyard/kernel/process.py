"""A kernel process of its own for each run, and the means to make sure it is gone.

The kernel is spawned (fork+exec through subprocess, never a fork of this process) by
jupyter_client, which starts it in a new session: the kernel leads its own process group,
and whatever the notebook starts joins that group. Killing the group kills them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from typing import IO, Any

from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from runyard.kernel.results import KernelLimits
from runyard.kernel.sandbox import KernelSandbox, Sandbox

# How long a kernel asked to shut down may take (atexit handlers, flushing files) before it
# is killed. ipykernel needs about 0.2 s.
GRACEFUL_SHUTDOWN_SECONDS = 3.0

# What we keep of the kernel process's own stdout/stderr (output from before ipykernel
# captures file descriptors 1 and 2, or after it lets go): enough for a start-up traceback.
_OUTPUT_TAIL_BYTES = 8_192

# A kernel's private folder in the system's temporary folder: this prefix, the pid of the
# process that started the kernel, a dash, and a random part.
RUNTIME_DIR_PREFIX = "runyard-kernel-"

# How long to wait for the answer to one kernel_info request before asking again (a kernel
# still starting drops nothing, but an IOPub subscription made after its answer misses it).
_ANSWER_SECONDS = 0.5

# How long a SIGKILLed kernel may take to die before we give up waiting (see dispose).
_REAP_SECONDS = 30.0


class VenvKernelSpecManager(KernelSpecManager):
    """Resolves the native kernel name ("python3") to ipykernel in this very interpreter,
    and starts every kernel behind `prefix` (its sandbox and limits).

    A `python3` kernelspec found on the Jupyter path (in the user's home, say) could point at
    another Python; the runner must use the interpreter and packages it was installed with,
    and must work in a fresh venv where no kernelspec was ever installed.
    """

    def __init__(self, prefix: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._prefix = list(prefix)

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name == NATIVE_KERNEL_NAME:
            spec = KernelSpec(resource_dir=RESOURCES, name=kernel_name, **get_kernel_dict())
        else:
            spec = super().get_kernel_spec(kernel_name)
        spec.argv = [*self._prefix, *spec.argv]
        return spec


class KernelProcess:
    """One kernel, from launch to the reaping of its process.

    Use from a single event loop, in this order: `launch`, `connect`, then `dispose`
    (always, also when launching failed). Only `kill_group` may be called from any thread.
    """

    def __init__(
        self,
        kernel_name: str,
        *,
        sandbox: KernelSandbox,
        limits: KernelLimits,
        env: Mapping[str, str],
        work_dir: str | None = None,
    ) -> None:
        # The connection file and the IPC sockets live in a private directory (mode 0700):
        # no TCP port is opened, so no other local user can reach the kernel, concurrent
        # runs cannot race for ports, and nothing depends on a writable Jupyter runtime dir.
        # The sandbox shows the kernel this directory alone of the host's.
        # Named for this process, so that the next process on this host can remove the
        # folders of a predecessor that died (see orphans.remove_orphaned_runtime_dirs).
        self._runtime_dir = tempfile.mkdtemp(prefix=f"{RUNTIME_DIR_PREFIX}{os.getpid()}-")
        self.kernel_name = kernel_name
        self.limits = limits
        self.sandboxed = isinstance(sandbox, Sandbox)
        try:
            self._command = sandbox.command(self._runtime_dir, limits, work_dir)
        except BaseException:
            shutil.rmtree(self._runtime_dir, ignore_errors=True)
            raise
        self._env = {**env, **self._command.env}
        # What the kernel process itself writes (before ipykernel captures file
        # descriptors 1 and 2, or after it lets go): start-up tracebacks, mostly.
        output_path = os.path.join(self._runtime_dir, "kernel-output.log")
        self._output: IO[bytes] = open(output_path, "w+b")  # noqa: SIM115 (closed in dispose)
        self.manager = AsyncKernelManager(
            kernel_name=kernel_name,
            kernel_spec_manager=VenvKernelSpecManager(self._command.prefix),
            transport="ipc",
            connection_file=os.path.join(self._runtime_dir, "kernel.json"),
        )
        self.client: AsyncKernelClient | None = None
        self._pid: int | None = None
        self.returncode: int | None = None
        self.ignored_shutdown_request = False

    @property
    def working_directory(self) -> str:
        """The kernel's working directory, as the kernel sees it."""
        return self._command.cwd

    @property
    def exchange_dir(self) -> str:
        """A folder the runner writes to and the kernel reads from (SQL cells' results),
        at the same path on both sides."""
        return self._runtime_dir

    @property
    def pid(self) -> int | None:
        """The kernel's pid (also its process group id) once launched."""
        return self._pid

    async def launch(self) -> int:
        """Start the kernel process and return its pid; it may not answer requests yet."""
        # Written now rather than by start_kernel, to give it to the kernel's user first.
        self.manager.write_connection_file()
        self._command.hand_over(self.manager.connection_file)
        await self.manager.start_kernel(
            cwd=self._command.host_cwd,
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
        await self._until_answered(client, within_seconds)
        return client

    async def warm_up(self, within_seconds: float) -> None:
        """Wait until the launched kernel answers, then let go of the channels: the run that
        gets the kernel connects its own, in its own event loop."""
        client = self.manager.client()
        client.start_channels(hb=False, stdin=False)
        try:
            await self._until_answered(client, within_seconds)
        finally:
            client.stop_channels()

    async def _until_answered(self, client: AsyncKernelClient, within_seconds: float) -> None:
        """Ask for kernel_info until the kernel's answer comes back on IOPub too.

        jupyter_client's wait_for_ready waits for IOPub to stay quiet for 0.2 s, to be
        fairly sure the subscription is live; the kernel's own busy/idle status for our
        request proves it is, as soon as it arrives. Until then, outputs could be lost.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_seconds
        while True:
            if not self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise RuntimeError(f"Kernel did not answer within {within_seconds:g}s")
            request = client.kernel_info()
            if await _idle_after(client, request, min(_ANSWER_SECONDS, remaining)):
                return

    def is_alive(self) -> bool:
        """Whether the launched kernel process is still running (it is not reaped here)."""
        process = self._process_or_none()
        if process is None or process.returncode is not None:
            return False
        try:
            exited = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False
        return exited is None

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


async def _idle_after(client: AsyncKernelClient, request: str, seconds: float) -> bool:
    """Wait up to `seconds` for the kernel's idle status for `request` on IOPub."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (remaining := deadline - loop.time()) > 0:
        try:
            message = await client.get_iopub_msg(timeout=remaining)
        except queue.Empty:
            return False
        if (
            message["parent_header"].get("msg_id") == request
            and message["msg_type"] == "status"
            and message["content"].get("execution_state") == "idle"
        ):
            return True
    return False


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
