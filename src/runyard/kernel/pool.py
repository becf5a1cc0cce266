"""Fresh kernels without the wait: started ahead of demand, each handed to one run only.

Starting a kernel (a Python process importing ipykernel, in its sandbox) takes most of a
second; a trivial run's cells take milliseconds. The pool keeps a few kernels started and
answering, so a run only has to connect to one. A pooled kernel is never reused: the run
that takes it disposes of it, and the pool starts another in its place. So a run still gets
a process no other code ever ran in, as without the pool.

The pool has a thread of its own, with its own event loop, that starts kernels one at a
time (a start is mostly CPU, and runs in progress need it more) and checks the idle ones
now and then; a kernel that died while idle is disposed of and replaced, never handed out.
Kernels are started from that thread, which lives as long as the pool: a sandboxed kernel
dies with the thread that started it (see sandbox.py), so a pool's kernels cannot outlive
the process either.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
import time
from collections.abc import Mapping

from runyard.kernel.process import KernelProcess
from runyard.kernel.results import KernelLimits
from runyard.kernel.sandbox import KernelSandbox

log = logging.getLogger(__name__)

# How long a kernel may take to start before the pool gives up on it and tries again.
_START_SECONDS = 120.0
# How often idle kernels are checked for life.
_CHECK_SECONDS = 2.0
# After a kernel failed to start, wait this long before the next try (a broken setup must
# not become a busy loop).
_RETRY_SECONDS = 5.0


class KernelPool:
    """Up to `size` started, idle kernels of one kind (kernel name, limits, environment).

    `take` may be called from any thread. `start` and `stop` are the owner's.
    """

    def __init__(
        self,
        sandbox: KernelSandbox,
        kernel_name: str,
        limits: KernelLimits,
        env: Mapping[str, str],
        size: int,
    ) -> None:
        if size < 1:
            raise ValueError(f"A kernel pool needs a size of at least 1, got {size}")
        self.sandbox = sandbox
        self.kernel_name = kernel_name
        self.limits = limits
        self._env = dict(env)
        self.size = size
        self._lock = threading.Lock()
        self._idle: collections.deque[KernelProcess] = collections.deque()
        self._dead: list[KernelProcess] = []  # taken out of _idle, not disposed of yet
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="runyard-kernel-pool", daemon=True)
        self._thread.start()
        self._started.wait()

    def stop(self) -> None:
        """Stop refilling and dispose of every idle kernel; kernels already taken are their
        runs' to dispose of."""
        with self._lock:
            self._stopping = True
        loop = self._loop
        if loop is not None and self._wake is not None:
            loop.call_soon_threadsafe(self._wake.set)
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def take(self) -> KernelProcess | None:
        """A started kernel that answers, for one run; None if none is ready right now."""
        while True:
            with self._lock:
                if self._stopping or not self._idle:
                    return None
                kernel = self._idle.popleft()
            self._refill()
            if kernel.is_alive():
                return kernel
            # Died while idle: never handed out. The pool's loop disposes of it.
            log.warning("a pooled kernel (pid %s) died while idle; discarded", kernel.pid)
            with self._lock:
                self._dead.append(kernel)

    @property
    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)

    def wait_until_full(self, timeout: float) -> bool:
        """Block until `size` kernels are idle (for tests and benchmarks); whether they are."""
        deadline = time.monotonic() + timeout
        while self.idle_count < self.size:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    # -- the pool's own thread ---------------------------------------------------------------

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._started.set()
        try:
            while not self._stopping:
                await self._discard_dead()
                if not await self._fill_one():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), _CHECK_SECONDS)
                    self._wake.clear()
        finally:
            with self._lock:
                idle, self._idle = list(self._idle), collections.deque()
                idle += self._dead
                self._dead = []
            for kernel in idle:
                await kernel.dispose(graceful=False)

    async def _fill_one(self) -> bool:
        """Start one kernel if the pool is short of one; whether it started one."""
        with self._lock:
            if self._stopping or len(self._idle) >= self.size:
                return False
        kernel = KernelProcess(
            self.kernel_name, sandbox=self.sandbox, limits=self.limits, env=self._env
        )
        try:
            await kernel.launch()
            await kernel.warm_up(_START_SECONDS)
        except Exception as exc:
            # Broad on purpose: the pool must survive any start failure; runs then start
            # their kernels themselves and report the error where it belongs.
            log.warning("could not start a kernel for the pool: %s", exc)
            await kernel.dispose(graceful=False)
            await asyncio.sleep(_RETRY_SECONDS)
            return False
        with self._lock:
            if not self._stopping:
                self._idle.append(kernel)
                return True
        await kernel.dispose(graceful=False)
        return False

    async def _discard_dead(self) -> None:
        with self._lock:
            dead = [kernel for kernel in self._idle if not kernel.is_alive()]
            for kernel in dead:
                self._idle.remove(kernel)
                log.warning("a pooled kernel (pid %s) died while idle; discarded", kernel.pid)
            dead += self._dead
            self._dead = []
        for kernel in dead:
            await kernel.dispose(graceful=False)

    def _refill(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            loop.call_soon_threadsafe(wake.set)
