"""Stopping a SQL cell's query from outside the thread it runs in.

A database driver blocks its thread until the statement ends, and no Python-level signal
can stop it. Each driver has its own way to stop a statement from another thread (a cancel
request, `KILL QUERY`, an interrupt flag); the query's thread registers that way with a
QueryInterrupt while the statement runs, and `run_interruptibly` uses it when the run
stops (its task is cancelled) or the query's own time limit passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

# An interrupt is sent again at this interval until the query's thread returns: on every
# driver, one that lands just before the statement reaches the server (or between two
# statements) is lost.
REPEAT_SECONDS = 1.0
# How long a driver may take to give up once interrupted before its thread is abandoned.
# Only a driver that cannot reach its server (so cannot deliver the cancel either) gets
# near it; the run must end anyway.
GIVE_UP_SECONDS = 30.0


class QueryInterrupted(Exception):
    """The query stopped because it was interrupted (or was never started, for that)."""


class QueryTimedOut(Exception):
    """The query ran past its time limit and was interrupted."""


class QueryInterrupt:
    """A thread-safe handle to stop one query, whatever thread it runs in.

    Once `interrupt` has been called the handle stays interrupted: a statement registered
    later is refused at once.
    """

    def __init__(self) -> None:
        # Held while the driver's stop function runs, so that the query's thread cannot
        # close the connection under it (and a stop never reaches a closed connection, or
        # another session that reused a MySQL connection id).
        self._lock = threading.Lock()
        self._requested = False
        self._stop: Callable[[], None] | None = None

    @property
    def requested(self) -> bool:
        with self._lock:
            return self._requested

    def interrupt(self) -> None:
        """Stop the running statement, if any, and every later one. May block for the
        driver's round trip to its server, and raises what the driver raises."""
        with self._lock:
            self._requested = True
            if self._stop is not None:
                self._stop()

    @contextlib.contextmanager
    def stoppable(self, stop: Callable[[], None]) -> Iterator[None]:
        """While inside, `interrupt` calls `stop` (from another thread) to stop the
        statement. Raises QueryInterrupted on entry if an interrupt came first."""
        with self._lock:
            if self._requested:
                raise QueryInterrupted
            self._stop = stop
        try:
            yield
        finally:
            with self._lock:
                self._stop = None


async def run_interruptibly(
    work: Callable[[QueryInterrupt], T],
    *,
    time_limit: float | None,
    on_event: Callable[[str], None],
) -> T:
    """Run `work(interrupt)` in a thread of its own and return what it returns.

    1. If this task is cancelled (the run is stopping), interrupt the query, wait until
       `work` has returned or raised (or GIVE_UP_SECONDS), then let the cancellation go on.
    2. If `time_limit` seconds pass first, do the same, then raise QueryTimedOut (also if
       `work` happened to finish meanwhile: the limit has passed).

    A thread of its own rather than the loop's executor: an abandoned driver must not hold
    up the loop's shutdown, which joins the executor's threads.
    """
    loop = asyncio.get_running_loop()
    interrupt = QueryInterrupt()
    done: asyncio.Future[T] = loop.create_future()
    # Once we stop waiting (a time limit, a stop), the query's error has no reader left:
    # mark it read, or asyncio logs it as never retrieved.
    done.add_done_callback(_mark_read)
    thread = threading.Thread(
        target=_deliver, args=(loop, done, work, interrupt), name="runyard-sql-query", daemon=True
    )
    thread.start()
    timer = asyncio.timeout(time_limit)
    try:
        async with timer:
            # Shielded: the timeout and a cancellation must reach this await, not `done`,
            # which only the query's thread may settle.
            return await asyncio.shield(done)
    except TimeoutError:
        if not timer.expired():
            raise  # the query's own error, not our limit
        on_event(f"the query reached its time limit of {time_limit:g}s; interrupting it")
        await _interrupt_until_done(interrupt, done, on_event)
        raise QueryTimedOut from None
    except asyncio.CancelledError:
        on_event("the run is stopping; interrupting the query")
        await _interrupt_until_done(interrupt, done, on_event)
        raise


async def _interrupt_until_done(
    interrupt: QueryInterrupt, done: asyncio.Future[T], on_event: Callable[[str], None]
) -> None:
    """Interrupt the query every REPEAT_SECONDS until its thread has returned, or until
    GIVE_UP_SECONDS have passed. A cancellation meanwhile (the run stops while a time
    limit's interrupt is under way) waits until then, and is raised at the end."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + GIVE_UP_SECONDS
    cancelled = False
    while not done.done():
        left = give_up_at - loop.time()
        if left <= 0:
            on_event(f"the query did not stop within {GIVE_UP_SECONDS:g}s; abandoned it")
            break
        try:
            await _interrupt_once(interrupt, on_event)
            # asyncio.wait, not a timeout: it neither raises the query's error nor cancels
            # `done`, and works in a task that is being cancelled.
            await asyncio.wait({done}, timeout=min(REPEAT_SECONDS, left))
        except asyncio.CancelledError:
            cancelled = True
    else:
        on_event("the query stopped")
    if cancelled:
        raise asyncio.CancelledError


async def _interrupt_once(interrupt: QueryInterrupt, on_event: Callable[[str], None]) -> None:
    try:
        # In a thread: stopping a MySQL query opens a connection of its own.
        await asyncio.to_thread(interrupt.interrupt)
    except Exception as exc:
        # Broad on purpose: each driver raises its own errors, and a failed attempt is
        # repeated; the run must end either way.
        on_event(f"could not interrupt the query: {type(exc).__name__}: {exc}")


def _mark_read(done: asyncio.Future[Any]) -> None:
    if not done.cancelled():
        done.exception()


def _deliver(
    loop: asyncio.AbstractEventLoop,
    done: asyncio.Future[T],
    work: Callable[[QueryInterrupt], T],
    interrupt: QueryInterrupt,
) -> None:
    settle: Callable[[], None]
    try:
        settle = functools.partial(done.set_result, work(interrupt))
    except BaseException as exc:
        # Everything goes to the awaiting task, which decides what it means.
        settle = functools.partial(done.set_exception, exc)

    def settle_unless_done() -> None:
        if not done.done():
            settle()

    # The loop is closed when the query was abandoned: nobody waits for it any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(settle_unless_done)
