"""Token verification on the event loop, with one read of the store per token at a time.

A verified token is remembered for a few seconds (`IdentityService.remembered`). When that
memory runs out, or a token's use is due to be recorded (once a minute), every request that
arrives with the token before the store has answered would read the store, and record the
use, itself: with 50 clients polling on one token that is 50 reads and 50 contending writes
at once, every few seconds, and the polls behind them wait hundreds of milliseconds. Here
the first of them reads the store (in a worker thread) and the others wait for its answer,
the same answer they would have got.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from runyard.domain.permissions import Actor
from runyard.services.identity import IdentityService


class Verifications:
    """The actor of a request's Authorization header: remembered, or verified once for all
    concurrent requests with the same header. Raises what `IdentityService.authenticate`
    raises (Unauthenticated)."""

    def __init__(self, identity: IdentityService) -> None:
        self._identity = identity
        self._pending: dict[tuple[int, str], asyncio.Future[Actor]] = {}

    async def actor(self, authorization: str | None) -> Actor:
        remembered = self._identity.remembered(authorization)
        if remembered is not None:
            return remembered
        if not authorization:
            return self._identity.authenticate(authorization)  # refuses without the store
        # Per event loop too: a future is awaited only on its own loop (one per server; a
        # test may drive one app from several).
        key = (id(asyncio.get_running_loop()), authorization)
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(
                run_in_threadpool(self._identity.authenticate, authorization)
            )
            self._pending[key] = pending
            pending.add_done_callback(self._forget(key))
        # Shielded: a waiter that goes away (its client hung up) leaves the read to the rest.
        return await asyncio.shield(pending)

    def _forget(self, key: tuple[int, str]) -> Callable[[asyncio.Future[Actor]], None]:
        def forget(done: asyncio.Future[Actor]) -> None:
            if self._pending.get(key) is done:
                del self._pending[key]
            if not done.cancelled():
                done.exception()  # retrieved, even when every waiter went away

        return forget
