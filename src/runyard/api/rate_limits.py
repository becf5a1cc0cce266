"""Per-token rate limits: which group a route belongs to, and the counters behind them.

Every route under `/api/v1` belongs to one of Hex's groups (shared/api/hex-api-v1.md §4);
`GROUP_OF` names the routes outside the default group `hex-api`. Each token has its own
counters, so one token's bursts never throttle another's. A group may have several limits
(`30/minute;1800/hour`); a request must fit all of them. Over a limit the request fails with
`RateLimited` (429 with `Retry-After`), before its endpoint runs. A group whose limit is
`unlimited` (by default every group but RunProject's, see config.py) is not counted at all.

The counters are moving windows of the `limits` library, kept in memory (one process) or in
Redis (shared by every API process that points at it).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import limits
from fastapi import Depends, Request
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runyard.api.deps import ActorDep
from runyard.api.errors import rate_limit_headers
from runyard.config import UNLIMITED, Settings
from runyard.errors import RateLimited

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
DEFAULT_GROUP = "hex-api"

# (method, path under /api/v1) -> group, for the routes outside `hex-api`. Aliases of a Hex
# operation (the seed document's /workspace/… paths, the legacy singular run paths) share its
# group. A test checks that every entry names a route the app serves.
GROUP_OF: dict[tuple[str, str], str] = {
    ("GET", "/users"): "hex-api-30rpm",
    ("GET", "/workspace/users"): "hex-api-30rpm",
    ("GET", "/users/me"): "hex-api-30rpm",
    ("POST", "/users/{userId}/deactivate"): "hex-api-30rpm",
    ("PATCH", "/projects/{projectId}/sharing/users"): "hex-api-30rpm",
    ("POST", "/projects/{projectId}/runs"): "hex-run-kernel",
    ("POST", "/project/{projectId}/run"): "hex-run-kernel",
}


def group_of(method: str, path: str) -> str:
    """The group of a route, given its method and path template (with or without the
    `/api/v1` prefix: FastAPI reports either, depending on how routers are included)."""
    relative = path.removeprefix(API_PREFIX)
    return GROUP_OF.get((method.upper(), relative), DEFAULT_GROUP)


def counted(settings: Settings, method: str, path: str) -> bool:
    """Whether requests to a route are counted against a limit (by `dependencies`)."""
    if not settings.rate_limits_enabled:
        return False
    return settings.rate_limits.get(group_of(method, path), UNLIMITED) != UNLIMITED


@dataclass(frozen=True)
class Quota:
    """What is left of the tightest limit of a group after a request was counted."""

    limit: int
    remaining: int
    reset_at: float

    def headers(self) -> dict[str, str]:
        return rate_limit_headers(self.limit, self.remaining, self.reset_at)


class RateLimiter:
    """Per-token moving windows for every limited group, in one storage (memory or Redis)."""

    def __init__(self, limits_by_group: Mapping[str, str], storage_url: str, key_prefix: str):
        # Shortest window first: a request refused by the per-minute limit is then counted
        # nowhere, and one refused by the hourly limit is counted only in windows that run
        # out long before the hourly one frees up.
        # An unlimited group has no windows: its requests never reach the storage.
        self._limits = {
            group: sorted(limits.parse_many(text), key=lambda item: item.get_expiry())
            for group, text in limits_by_group.items()
            if text != UNLIMITED
        }
        self._storage_url = storage_url
        options: dict[str, Any] = {"wrap_exceptions": True}
        if urlsplit(storage_url).scheme != "memory":
            # Short timeouts: a Redis that hangs must not hang every API request with it.
            options |= {
                "key_prefix": key_prefix,
                "socket_connect_timeout": 2,
                "socket_timeout": 2,
            }
        self._storage = storage_from_string(storage_url, **options)
        # Memory counters cost microseconds and never block; Redis is a network round trip.
        self.blocks = urlsplit(storage_url).scheme != "memory"
        self._windows = MovingWindowRateLimiter(self._storage)
        self._storage_down = False

    def check_storage(self) -> None:
        """Fail loudly at start-up when the counters' storage does not answer."""
        if not self._storage.check():
            raise RuntimeError(
                f"RUNYARD_RATE_LIMIT_STORAGE_URL: {redacted(self._storage_url)} does not answer"
            )

    def unlimited(self, group: str) -> bool:
        return not self._limits.get(group)

    def hit(self, group: str, key: str) -> Quota | None:
        """Count one request of `key` (a token) in `group`; raise RateLimited when it does not
        fit. None when the group is unlimited, or when the storage failed and the request was
        let through uncounted."""
        items = self._limits.get(group)
        if not items:
            return None
        try:
            for item in items:
                if not self._windows.hit(item, group, key):
                    stats = self._windows.get_window_stats(item, group, key)
                    raise RateLimited(
                        group=group,
                        limit=str(item),
                        amount=item.amount,
                        retry_after_seconds=max(1, math.ceil(stats.reset_time - time.time())),
                        reset_at=stats.reset_time,
                    )
            stats_of = [(item, self._windows.get_window_stats(item, group, key)) for item in items]
        except StorageError as error:
            # Fail open: the limits protect the service, and refusing every request because
            # their counters are unreachable would take the whole API down with Redis.
            if not self._storage_down:
                log.error(
                    "rate-limit storage %s failed (%s); requests go uncounted until it answers",
                    redacted(self._storage_url),
                    error.storage_error,
                )
            self._storage_down = True
            return None
        if self._storage_down:
            log.warning("rate-limit storage %s answers again", redacted(self._storage_url))
            self._storage_down = False
        item, stats = min(stats_of, key=lambda pair: pair[1].remaining)
        return Quota(limit=item.amount, remaining=stats.remaining, reset_at=stats.reset_time)


def redacted(url: str) -> str:
    """The URL without its password, fit for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user_info, _, host = parts.netloc.rpartition("@")
    user = user_info.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


# The scope key where the dependency leaves the request's quota for `QuotaHeaders`.
_QUOTA_KEY = "runyard.rate_limit_quota"


def dependencies(settings: Settings) -> list[Any]:
    """The router dependencies that enforce the limits: none when they are switched off.

    The dependency takes the actor (FastAPI solves it once per request, shared with the
    endpoint), so a missing or bad token is a 401 before any counting, and unauthenticated
    requests are never counted.
    """
    if not settings.rate_limits_enabled:
        return []
    limiter = RateLimiter(
        settings.rate_limits, settings.rate_limit_storage_url, settings.rate_limit_key_prefix
    )
    limiter.check_storage()

    # An async dependency runs on the event loop, a sync one in the thread pool: counting in
    # memory (or not at all, for unlimited groups such as reads) is cheaper than the hop
    # to a thread, while a call to Redis must not block the loop.
    async def enforce_rate_limit(request: Request, actor: ActorDep) -> None:
        route = request.scope.get("route")
        group = group_of(request.method, getattr(route, "path", ""))
        key = actor.token_id or f"user:{actor.user_id}"
        if limiter.blocks and not limiter.unlimited(group):
            quota = await run_in_threadpool(limiter.hit, group, key)
        else:
            quota = limiter.hit(group, key)
        box = request.scope.get(_QUOTA_KEY)
        if quota is not None and isinstance(box, list):
            box.append(quota)

    return [Depends(enforce_rate_limit)]


class QuotaHeaders:
    """Adds `X-RateLimit-*` to every answer of a counted request (not of unlimited groups).

    A dependency cannot set headers on answers that endpoints build themselves (204s,
    downloads), so the dependency leaves the quota in a box in the scope and this pure ASGI
    middleware copies it onto the answer. 429s carry their own headers already.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        box: list[Quota] = []
        scope[_QUOTA_KEY] = box

        async def send_with_quota(message: Message) -> None:
            if message["type"] == "http.response.start" and box:
                headers = MutableHeaders(scope=message)
                for name, value in box[-1].headers().items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_quota)
